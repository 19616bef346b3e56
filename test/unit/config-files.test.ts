import { describe, expect, it } from "vitest";
import demo from "../../config/demo.routes.json";
import production from "../../config/routes.json";
import { parseRules } from "../../src/rules/parse";

// The tests refuse an invalid shipped rules file, with the validator's own message.
describe("shipped rules files", () => {
  for (const [name, file] of [["config/routes.json", production], ["config/demo.routes.json", demo]] as const) {
    it(`${name} is valid`, () => {
      const { rules, problems } = parseRules(file);
      expect(problems.filter((p) => p.severity === "error")).toEqual([]);
      expect(rules?.routes.length).toBeGreaterThan(0);
    });
  }
});

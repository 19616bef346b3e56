import { it } from "vitest";
import { parseRules, parseRulesText } from "../../src/rules/parse";
it("scratch", () => {
  for (const t of ["{\n  \"a\": 1,\n}", "{\"a\" 1}", "{\"a\":1", "// c\n{}", "{'a':1}", "{\"a\": tru}", "[1,]", "{} x", "\"a\nb\"", "{\"a\": \"\\x\"}", "-", "01"]) {
    console.log(JSON.stringify(t), JSON.stringify(parseRulesText(t).problems));
  }
  console.log(JSON.stringify(parseRules({version:1, routes:[{name:"a", match:{path:"/search?q=1"}}]}).problems));
});

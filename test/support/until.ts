import { origin } from "./origin";

/**
 * Waits until `ready` holds. Between checks it yields one real I/O turn (a round trip to
 * the scripted origin's control API), never a sleep, so no test waits on the wall clock.
 */
export async function until(ready: () => boolean | Promise<boolean>, what = "the condition"): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await ready()) return;
    await origin.held("/__nothing__");
  }
  throw new Error(`never happened: ${what}`);
}

/**
 * Which `npm start` holds a local state directory. Two workerds over one SQLite state
 * serve each other's rules (each run seeds the shared coordinator as newest), and one's
 * --fresh empties what the other is using; so a run takes its directory with a lock file
 * naming its pid and port, and a lock left by a run that died is taken over.
 */
import { readFileSync, rmSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

const LOCK = ".edge-cache-start.pid";

/** Takes `dir` for this process; when another live run holds it, leaves it alone and says which. */
export async function claimDir(dir: string, port: number): Promise<{ pid: number; port: string } | null> {
  const lock = path.join(dir, LOCK);
  const held = await readFile(lock, "utf8").then((t) => t.trim().split(" "), () => null);
  const pid = held ? Number(held[0]) : NaN;
  if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) return { pid, port: held![1] ?? "?" };
  await mkdir(dir, { recursive: true });
  await writeFile(lock, `${process.pid} ${port}\n`);
  return null;
}

/** Gives `dir` back, when this process still holds it (synchronous: it runs on exit). */
export function releaseDir(dir: string): void {
  const lock = path.join(dir, LOCK);
  try {
    if (readFileSync(lock, "utf8").startsWith(`${process.pid} `)) rmSync(lock, { force: true });
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it lives, under another user.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

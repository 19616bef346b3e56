import type { TestProject } from "vitest/node";
import { startOriginServer } from "./origin-server";

/** One scripted origin for the whole "workers" project; tests use unique paths. */
export default async function setup(project: TestProject) {
  const origin = await startOriginServer();
  project.provide("originUrl", origin.url);
  return () => origin.close();
}

/**
 * The Worker's bindings: what `wrangler types` generates from wrangler.jsonc (`Env`),
 * plus the optional secrets and vars a deployment may set, which the config file
 * cannot list without putting values in it.
 */
export interface WorkerEnv extends Env {
  /** A rules file (JSON text) that replaces the bundled one; set by `npm start -- --rules`. */
  RULES_JSON?: string;
  /**
   * Which start `RULES_JSON` belongs to (`npm start` sets a new one each run): the
   * coordinator records RULES_JSON as a new version once per seed, so uploads made
   * after that start win and an earlier run's uploads do not. Default: the file's hash.
   */
  RULES_SEED?: string;
  /** Bearer token for the admin API; unset = admin disabled; under 32 characters = refused. */
  ADMIN_TOKEN?: string;
  /** Hosts or origins (comma-separated) an uploaded rules file may name as `origin`, besides the deployment's own. */
  ALLOWED_ORIGINS?: string;
  /** Bearer token for `PURGE` requests only (the one to give a CMS plugin); ADMIN_TOKEN works too. */
  PURGE_TOKEN?: string;
  /** IPs and CIDR ranges (comma or space separated) that may send `PURGE` without a token, matched against CF-Connecting-IP. */
  PURGE_ALLOW?: string;
  /** With CF_ZONE_ID: purges also clear the zone's own cache through Cloudflare's API. */
  CF_API_TOKEN?: string;
  CF_ZONE_ID?: string;
  /** Base URL of Cloudflare's API (tests point it at a local stand-in). */
  CF_API_BASE?: string;
  /** The coordinator's name (one per site); default "default". */
  SITE_NAME?: string;
  /** Workers Analytics Engine dataset: one data point per request when bound (docs/statistics.md, "Analytics Engine"). */
  ANALYTICS?: AnalyticsEngineDataset;
}

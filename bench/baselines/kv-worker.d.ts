/** Types for bench/floor-worker.ts, which runs this baseline beside edge-cache in one workerd. */
declare const kvWorker: ExportedHandler<{ CACHE_KV: KVNamespace; ORIGIN: string; TTL?: string }>;
export default kvWorker;

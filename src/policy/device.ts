/**
 * The device class of a request, from its User-Agent: what `key.device` keys on and
 * what the origin receives as `CF-Device-Type` (the header and the three values of
 * Cloudflare's own "cache by device type"). Pure.
 *
 * Our own few patterns rather than a UA library: three classes need a handful of
 * tokens, and the well-known library changed to a copyleft licence in its 2.x line.
 * Crawlers count as desktop whatever device they pretend to be (Googlebot's
 * smartphone crawler sends an Android phone's UA), so they see the desktop page and
 * never fill the mobile variant with what they alone asked for.
 */

export type DeviceType = "mobile" | "tablet" | "desktop";

/** Longest User-Agent we look at: real ones are under 512 bytes; the rest cannot change the class. */
const MAX_UA = 1024;

const BOT = /bot\b|bot\/|crawl|spider|slurp|mediapartners|adsbot|facebookexternalhit|embedly|preview|lighthouse|pingdom|headlesschrome|curl\/|wget\/|python-requests|go-http-client|okhttp|httpclient|feedfetcher/i;

// Checked before mobile: these tablets also send "Mobile" or "Android".
const TABLET = /ipad|tablet|playbook|kindle|silk\/|kfapwi|kftt|nexus (7|9|10)\b|sm-t\d|gt-p\d|sm-x\d|lenovo tab|mi pad|mediapad/i;
// Android's rule: phones say "Mobile", tablets do not.
const ANDROID_TABLET = /^(?!.*mobi).*android/i;

const MOBILE = /mobi|iphone|ipod|android|windows phone|iemobile|blackberry|bb10|opera mini|webos|symbian|nokia|kaios|fennec|minimo/i;

/** The class of a User-Agent; absent, empty or unknown is desktop. */
export function classifyDevice(userAgent: string | null): DeviceType {
  if (!userAgent) return "desktop";
  const ua = userAgent.length > MAX_UA ? userAgent.slice(0, MAX_UA) : userAgent;
  if (BOT.test(ua)) return "desktop";
  if (TABLET.test(ua) || ANDROID_TABLET.test(ua)) return "tablet";
  if (MOBILE.test(ua)) return "mobile";
  return "desktop";
}

// Numbers for people: sizes in GiB/TiB, durations in words, times relative to now.
const GIB = 2 ** 30;

export function bytes(n) {
  if (n >= 1024 * GIB) return `${(n / (1024 * GIB)).toFixed(2)} TiB`;
  if (n >= GIB) return `${(n / GIB).toFixed(n >= 100 * GIB ? 0 : 1)} GiB`;
  return `${(n / 2 ** 20).toFixed(0)} MiB`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "not measured yet";
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d) return hr ? `${d} d ${hr} h` : `${d} d`;
  if (hr) return m ? `${hr} h ${m} min` : `${hr} h`;
  if (m) return `${m} min`;
  return `${s} s`;
}

export function rate(labelsPerSecond) {
  if (labelsPerSecond === null || labelsPerSecond === undefined) return "speed not measured yet";
  return `${Math.round(labelsPerSecond).toLocaleString("en")} labels/s`;
}

export function until(unixSeconds) {
  if (!unixSeconds) return "—";
  const delta = unixSeconds - Date.now() / 1000;
  return delta >= 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`;
}

// "1 unit", "25 units": a count with its noun in the right number.
export function plural(n, one, many = `${one}s`) {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}

export function pct(part, whole) {
  return whole > 0 ? Math.min(100, (100 * part) / whole) : 0;
}

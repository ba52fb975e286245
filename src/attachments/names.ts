/** Longest display name kept, in UTF-16 units. */
const MAX_NAME_LENGTH = 255

/**
 * A client's file name as display text: the last part of any path (both separators), without
 * control or format characters (bidi overrides make `gpj.exe` read as `exe.jpg`), trimmed and
 * bounded. Never used to build a path: files are stored under their hash.
 */
export function displayName(raw: string | undefined | null): string {
  if (!raw) return 'file'
  const last = raw.split(/[\\/]/).pop() ?? ''
  const clean = last
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '')
    .trim()
    .replace(/^\.+$/, '')
  return clean.slice(0, MAX_NAME_LENGTH) || 'file'
}

/** A Content-Disposition header for `name` (RFC 6266): an ASCII fallback and the UTF-8 form. */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_')
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`
}

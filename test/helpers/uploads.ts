import sharp from 'sharp'

/** A small PNG of the given size, made with sharp. */
export async function pngOf(width = 64, height = 48, background = '#3366ff'): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await sharp({ create: { width, height, channels: 3, background } }).png().toBuffer())
}

/** A minimal valid PDF (one empty page). */
export function pdfBytes(): Uint8Array<ArrayBuffer> {
  const body = '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj 3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n'
  return new TextEncoder().encode(body)
}

/** POST /attachments with `bytes` as the `file` field; the JSON answer. */
export async function upload(
  server: { url: string },
  bytes: Uint8Array<ArrayBuffer> | string,
  options: { name?: string; type?: string; userId?: number | null; token?: string } = {},
) {
  const form = new FormData()
  form.append('file', new Blob([bytes], { type: options.type ?? 'application/octet-stream' }), options.name ?? 'file.bin')
  const query = options.userId === null ? '' : `?user_id=${options.userId ?? 1}`
  const res = await fetch(`${server.url}/attachments${query}`, {
    method: 'POST',
    body: form,
    headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
  })
  return { status: res.status, body: (await res.json()) as any, headers: res.headers }
}

/** A multipart body by hand, for requests fetch would not build (a lying length, chunked). */
export function multipartBody(file: Uint8Array, name = 'big.bin', boundary = 'XyZzy42'): { body: Uint8Array; contentType: string } {
  const head = new TextEncoder().encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`)
  const tail = new TextEncoder().encode(`\r\n--${boundary}--\r\n`)
  const body = new Uint8Array(head.length + file.length + tail.length)
  body.set(head)
  body.set(file, head.length)
  body.set(tail, head.length + file.length)
  return { body, contentType: `multipart/form-data; boundary=${boundary}` }
}

import { describe, expect, test } from 'bun:test'
import { ConfigError, DEFAULT_ATTACHMENT_TYPES, loadConfig } from '../../src/config'
import { contentDisposition, displayName } from '../../src/attachments/names'
import { parseRange } from '../../src/attachments/service'
import { detectType, isAllowed, isInlineSafe } from '../../src/attachments/types'
import { pdfBytes, pngOf } from '../helpers/uploads'

describe('parseRange (RFC 9110 §14.1.2)', () => {
  test.each([
    ['bytes=0-9', 100, { start: 0, end: 9 }],
    ['bytes=90-', 100, { start: 90, end: 99 }],
    ['bytes=-10', 100, { start: 90, end: 99 }],
    ['bytes=-500', 100, { start: 0, end: 99 }],
    ['bytes=50-500', 100, { start: 50, end: 99 }],
    ['bytes=100-', 100, 'unsatisfiable'],
    ['bytes=-0', 100, 'unsatisfiable'],
    // Ignored (the whole file is sent): another unit, several ranges, nonsense, a reversed range.
    ['items=0-1', 100, null],
    ['bytes=0-1,5-6', 100, null],
    ['bytes=x-y', 100, null],
    ['bytes=9-1', 100, null],
  ] as const)('%s of %d bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected as any)
  })
})

describe('display names', () => {
  test.each([
    ['../../etc/passwd', 'passwd'],
    ['C:\\Windows\\system32\\evil.dll', 'evil.dll'],
    ['photo\u202Egnp.exe', 'photognp.exe'],
    ['tab\there\nnewline.txt', 'tabherenewline.txt'],
    ['..', 'file'],
    ['', 'file'],
    ['/', 'file'],
    ['résumé 2026.pdf', 'résumé 2026.pdf'],
  ])('%j → %j', (raw, shown) => expect(displayName(raw)).toBe(shown))

  test('a long name is bounded, and Content-Disposition carries both forms (RFC 6266)', () => {
    expect(displayName('a'.repeat(1000)).length).toBe(255)
    expect(contentDisposition('attachment', 'résumé "1".pdf')).toBe(`attachment; filename="r_sum_ _1_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%221%22.pdf`)
  })
})

describe('type detection and the allow-list', () => {
  test('from the bytes: PNG, PDF, UTF-8 text (HTML included), binary', async () => {
    expect(await detectType(await pngOf(), true)).toBe('image/png')
    expect(await detectType(pdfBytes(), true)).toBe('application/pdf')
    expect(await detectType(new TextEncoder().encode('<html><script>x</script></html>'), true)).toBe('text/plain')
    expect(await detectType(new Uint8Array([0x13, 0x37, 0x00, 0x01, 0x80]), true)).toBe('application/octet-stream')
    // A sample that ends inside a multibyte character is still text.
    expect(await detectType(new TextEncoder().encode('héllo').subarray(0, 2), false)).toBe('text/plain')
  })

  test('exact types and family wildcards', () => {
    expect(isAllowed('audio/mpeg', DEFAULT_ATTACHMENT_TYPES)).toBe(true)
    expect(isAllowed('video/mp4', DEFAULT_ATTACHMENT_TYPES)).toBe(true)
    expect(isAllowed('application/x-elf', DEFAULT_ATTACHMENT_TYPES)).toBe(false)
    expect(isAllowed('application/octet-stream', DEFAULT_ATTACHMENT_TYPES)).toBe(false)
    expect(isAllowed('image/svg+xml', ['image/png'])).toBe(false)
    expect(isInlineSafe('image/png')).toBe(true)
    expect(isInlineSafe('image/svg+xml')).toBe(false)
    expect(isInlineSafe('text/plain')).toBe(false)
  })
})

describe('configuration', () => {
  const base = { AUTH: 'none' }
  test('defaults and overrides', () => {
    const config = loadConfig(base)
    expect(config.maxAttachmentBytes).toBe(25 * 1024 * 1024)
    expect(config.attachmentUnsentTtlSeconds).toBe(86_400)
    expect(config.attachmentsUrl).toBeNull()
    const set = loadConfig({ ...base, ATTACHMENTS_URL: 's3://bucket/p', S3_ENDPOINT: 'http://s3:9000', ATTACHMENT_TYPES: 'image/png, Audio/*', MAX_ATTACHMENT_BYTES: '2048' })
    expect(set).toMatchObject({ attachmentsUrl: 's3://bucket/p', s3Endpoint: 'http://s3:9000', attachmentTypes: ['image/png', 'audio/*'], maxAttachmentBytes: 2048 })
  })
  test('refusals name the variable', () => {
    expect(() => loadConfig({ ...base, ATTACHMENTS_URL: 'ftp://x' })).toThrow(ConfigError)
    expect(() => loadConfig({ ...base, ATTACHMENT_TYPES: 'png' })).toThrow(/ATTACHMENT_TYPES/)
    expect(() => loadConfig({ ...base, MAX_ATTACHMENT_BYTES: '10' })).toThrow(/MAX_ATTACHMENT_BYTES/)
  })
})

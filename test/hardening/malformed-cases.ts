// The malformed frames and requests the hardening tests send, in one place: each test file checks
// its own answers, and survives-malformed.test.ts sends them all at a server in its own process.
import { Packr } from 'msgpackr'

const packr = new Packr({ useRecords: false })
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n)

/** [name, raw frame, expected error code] */
export const BAD_FRAMES: [string, string | Uint8Array, string][] = [
  ['not JSON', '{"type":"message",', 'invalid_json'],
  ['JSON that is not an object', '42', 'invalid_frame'],
  ['JSON null', 'null', 'invalid_frame'],
  ['an array', '[{"type":"ping"}]', 'invalid_frame'],
  ['no type', '{"recipient_id":2,"message":"hi"}', 'invalid_frame'],
  ['type is a number', '{"type":7}', 'invalid_frame'],
  ['unknown type', '{"type":"launch_missiles"}', 'unknown_type'],
  ['prototype pollution attempt', '{"type":"__proto__","__proto__":{"admin":true}}', 'unknown_type'],
  ['constructor as type', '{"type":"constructor"}', 'unknown_type'],
  ['recipient_id is a string', '{"type":"message","recipient_id":"2","message":"hi"}', 'invalid_frame'],
  ['recipient_id is a float', '{"type":"message","recipient_id":2.5,"message":"hi"}', 'invalid_frame'],
  ['recipient_id is negative', '{"type":"message","recipient_id":-1,"message":"hi"}', 'invalid_frame'],
  ['recipient_id beyond 2^53', '{"type":"message","recipient_id":1e300,"message":"hi"}', 'unknown_recipient'],
  ['message is an object', '{"type":"message","recipient_id":2,"message":{"a":1}}', 'invalid_frame'],
  ['both recipient and group', '{"type":"message","recipient_id":2,"group_id":1,"message":"hi"}', 'invalid_frame'],
  ['neither recipient nor group', '{"type":"message","message":"hi"}', 'invalid_frame'],
  ['unknown field', '{"type":"message","recipient_id":2,"message":"hi","admin":true}', 'invalid_frame'],
  ['empty message', '{"type":"message","recipient_id":2,"message":"   "}', 'empty_message'],
  ['huge message (60 000 chars)', JSON.stringify({ type: 'message', recipient_id: 2, message: 'x'.repeat(60_000) }), 'message_too_long'],
  ['huge client_id', JSON.stringify({ type: 'message', recipient_id: 2, message: 'hi', client_id: 'c'.repeat(50_000) }), 'invalid_frame'],
  ['huge type', JSON.stringify({ type: 't'.repeat(60_000) }), 'unknown_type'],
  ['huge ref', JSON.stringify({ type: 'ping', ref: 'r'.repeat(60_000) }), 'invalid_frame'],
  ['deep nesting (30 000 arrays)', deep(30_000), 'invalid_frame'],
  ['deep nesting inside a field', `{"type":"message","recipient_id":2,"message":${deep(20_000)}}`, 'invalid_frame'],
  ['deep nesting in an unknown field', `{"type":"ping","x":${deep(20_000)}}`, 'invalid_frame'],
  ['read_receipt for a message that does not exist', '{"type":"read_receipt","message_id":999999}', 'message_not_found'],
  ['typing to nobody', '{"type":"typing","recipient_id":999,"is_typing":true}', 'unknown_recipient'],
  ['message to a group one is not in', '{"type":"message","group_id":999,"message":"hi"}', 'unknown_group'],
  ['malformed MessagePack (truncated map)', new Uint8Array([0x82, 0xa4, 0x74, 0x79]), 'invalid_msgpack'],
  ['MessagePack string, not a map', packr.pack('hello'), 'invalid_frame'],
  ['MessagePack with a binary field', packr.pack({ type: 'message', recipient_id: 2, message: new Uint8Array(10) }), 'invalid_frame'],
  ['MessagePack deep nesting', new Uint8Array(new Array(40_000).fill(0x91).concat([0xc0])), 'invalid_msgpack'],
  ['MessagePack map with a huge declared size', new Uint8Array([0xdf, 0xff, 0xff, 0xff, 0xff]), 'invalid_msgpack'],
  ['MessagePack string with a huge declared length', new Uint8Array([0xdb, 0x7f, 0xff, 0xff, 0xff, 0x41]), 'invalid_msgpack'],
  ['MessagePack unknown extension', new Uint8Array([0xd4, 0x42, 0x00]), 'invalid_msgpack'],
]


/** [name, raw request, expected status] */
export const MALFORMED_REQUESTS: [string, string, number][] = [
  ['a Host with a port beyond 65535', 'GET /health HTTP/1.1\r\nHost: x:99999\r\n\r\n', 400],
  ['an empty Host', 'GET /health HTTP/1.1\r\nHost:\r\n\r\n', 400],
  ['HTTP/1.0 without Host', 'GET /health HTTP/1.0\r\n\r\n', 400],
  ['a Host that is not a host name', 'GET /health HTTP/1.1\r\nHost: [::1\r\n\r\n', 400],
  ['a one-letter Host (the router would read the path from the wrong place)', 'GET /public/style.css HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['a three-letter Host', 'GET /health HTTP/1.1\r\nHost: api\r\n\r\n', 400],
  ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405],
  ['a bad Host on an authorized route', 'GET /messages/conversations/1 HTTP/1.1\r\nHost: x:99999\r\n\r\n', 400],
  ['a bad Host on a WebSocket upgrade', 'GET /ws/1 HTTP/1.1\r\nHost: x:99999\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n', 400],
  ['a bad Host with a JSON body', 'POST /users HTTP/1.1\r\nHost: x:99999\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}', 400],
]


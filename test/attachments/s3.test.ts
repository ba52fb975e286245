import { afterAll } from 'bun:test'
import { startS3 } from '../helpers/s3'
import { attachmentSuite } from './suite'

// A real S3 API (s3rver) on a free port: the same suite as on disk, through Bun's S3 client.
const s3 = await startS3()
afterAll(() => s3.stop())

const client = new Bun.S3Client({ bucket: 'attachments', endpoint: s3.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1' })

attachmentSuite('S3 (s3rver)', {
  config: () => s3.config,
  exists: (_dir, key) => client.exists(`uploads/${key}`),
})

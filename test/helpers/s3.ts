import S3rver from 's3rver'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A real S3-compatible server (s3rver, serving the S3 API from a folder) on a free port, with one bucket. */
export async function startS3(bucket = 'attachments') {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-s3-'))
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket, configs: [] }] })
  const { port } = (await server.run()) as { port: number }
  return {
    dir,
    endpoint: `http://127.0.0.1:${port}`,
    /** The app's settings for this server: s3rver's fixed credentials. */
    config: { attachmentsUrl: `s3://${bucket}/uploads`, s3Endpoint: `http://127.0.0.1:${port}`, s3AccessKeyId: 'S3RVER', s3SecretAccessKey: 'S3RVER', s3Region: 'us-east-1' },
    async stop() {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

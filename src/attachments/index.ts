import type { Config } from '../config'
import { DiskStorage } from './disk-storage'
import { S3Storage } from './s3-storage'
import { defaultAttachmentsDir, type BlobStore } from './storage'

/** The storage ATTACHMENTS_URL names: an s3:// bucket, a folder, or `attachments/` beside the SQLite file. */
export function openAttachmentStorage(config: Config): BlobStore {
  const url = config.attachmentsUrl
  if (url !== null && /^s3:\/\//i.test(url))
    return new S3Storage({
      url,
      endpoint: config.s3Endpoint,
      accessKeyId: config.s3AccessKeyId,
      secretAccessKey: config.s3SecretAccessKey,
      region: config.s3Region,
    })
  return new DiskStorage(url ?? defaultAttachmentsDir(config.databaseUrl))
}

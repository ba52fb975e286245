import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { attachmentSuite } from './suite'

attachmentSuite('disk', {
  config: (dir) => ({ attachmentsUrl: join(dir, 'attachments') }),
  exists: async (dir, key) => existsSync(join(dir, 'attachments', key.slice(0, 2), key)),
})

import type { Config } from '../config'
import type { Logger } from '../observability/logger'
import { adminAccess } from './access'
import { adminRoutes } from './routes'
import { createAdminService, type AdminSources } from './service'

export type { AdminSources } from './service'

/** The operator's view: its service (numbers, disconnect) and its routes (/admin, /admin/api/*). */
export function createAdmin(deps: { config: Config; logger: Logger; sources: AdminSources }) {
  const { config, logger, sources } = deps
  const service = createAdminService({ sources, instanceId: config.instanceId, cluster: config.redisUrl !== null, slowConsumerBytes: config.slowConsumerBytes, logger })
  return { service, routes: adminRoutes({ service, access: adminAccess(config) }) }
}

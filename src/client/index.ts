/** The Switchboard client library: import from Bun, Node 22+ or a browser bundle. */
export { SwitchboardClient } from './client'
export { SwitchboardError, type ClientOptions } from './options'
export { backoffDelay, type BackoffOptions } from './backoff'
export type * from './types'

/** The Switchboard client library: import from Bun, Node 22+ or a browser bundle. */
export { SwitchboardClient, SwitchboardError, type ClientOptions } from './client'
export { backoffDelay, type BackoffOptions } from './backoff'
export type * from './types'

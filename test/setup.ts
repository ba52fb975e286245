import { setDefaultTimeout } from 'bun:test'

// Tests start real servers (and a browser); a busy 2-core machine must not turn that into a failure.
setDefaultTimeout(30_000)

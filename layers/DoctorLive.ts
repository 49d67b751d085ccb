/** What `profile doctor` needs beyond the local layers, shared by the full CLI's wiring and the fast tier. */
import * as Layer from "effect/Layer"
import type { Reachability } from "../src/services/Reachability.js"
import { LockInspectorLive } from "./FileLockLive.js"
import { TokenRecordsLive } from "./TokenRecordsLive.js"

/**
 * The lock inspector and the record listing, with the auth-host probe given: the full CLI's loads
 * the HTTP stack on first probe; the fast tier serves only `--offline`, which never probes, so its
 * bundle has no HTTP stack at all.
 */
export const makeDoctorLive = (reachability: Layer.Layer<Reachability>) =>
  Layer.mergeAll(reachability, LockInspectorLive, TokenRecordsLive)

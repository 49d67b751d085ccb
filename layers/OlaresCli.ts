/** The library's whole wiring, every port replaceable: what `OlaresCliLive` and `OlaresCliTest` are made of. */
import * as Layer from "effect/Layer"
import { type LocalPorts, makeLocalLive } from "./Main.js"
import { makeNetwork, type NetworkPorts } from "./NetworkLive.js"

/** The ports `makeOlaresCli` lets a program replace; each one left out is the live one. */
export interface OlaresCliPorts<E = never> extends LocalPorts<E>, NetworkPorts<E> {}

/**
 * Every service the CLI uses (never prompting), with the given ports instead of the live ones:
 * AppPaths, FileLock, ProfileRepo, KeyStore, Prompt, HttpClients, OlaresAuthApi, RefreshCoordinator,
 * and HttpAuth on top of them.
 */
export const makeOlaresCli = <E = never>(ports: OlaresCliPorts<E> = {}) =>
  makeNetwork(ports).pipe(Layer.provideMerge(makeLocalLive(true, ports)))

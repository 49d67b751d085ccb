/** The library surface: the ports, the domain, the errors and the live layers. */
export * from "./errors.js"

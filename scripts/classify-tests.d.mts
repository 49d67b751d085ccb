/** Types for scripts/classify-tests.mjs (imported by vitest.config.ts). */
export declare const classify: (file: string) => { readonly kind: "unit" | "e2e"; readonly reason: string }
export declare const classifyFlatTests: () => { readonly unit: Array<string>; readonly e2e: Array<string> }

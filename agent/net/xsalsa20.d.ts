// Types for the xsalsa20 package (the stream cipher @libp2p/pnet uses); it ships none.
declare module 'xsalsa20' {
  interface XSalsa20 {
    /** XORs `input` with the next bytes of the key stream. */
    update (input: Uint8Array, output?: Uint8Array): Uint8Array
    finalize (): void
  }
  function xsalsa20 (nonce: Uint8Array, key: Uint8Array): XSalsa20
  export default xsalsa20
}

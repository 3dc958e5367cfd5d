// s3rver ships no types; this is the part lifeboat and the tests use.
declare module 's3rver' {
  import type { Server } from 'node:http';
  import type { AddressInfo } from 'node:net';
  export interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory: string;
    resetOnClose?: boolean;
    configureBuckets?: { name: string }[];
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<AddressInfo>;
    /**
     * What run() listens with: given a callback last, it returns the server at once (and emits a
     * taken port as the server's 'error'); without one, a promise that never settles on an error.
     */
    listen(...args: unknown[]): Server | Promise<Server>;
    close(): Promise<void>;
  }
}

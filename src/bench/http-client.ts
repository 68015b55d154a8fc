/**
 * The load generator's HTTP/1.1 client: one keep-alive connection, one request at a time, the
 * response read only for its status. The generator shares the machine with the server it
 * measures, so what it spends per request is taken from the server. Sending the benchmark's corpus
 * to one `faultline start` at concurrency 32, alternating: undici's `request` 112–175 µs of the
 * generator's CPU per request, this 56–94 (docs/decisions.md).
 */
import net from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** A request gets no answer in this long: the connection is dropped and the request fails. */
const TIMEOUT_MS = 60_000;

interface Pending {
  resolve: (status: number) => void;
  reject: (err: Error) => void;
}

/** What is left of the response being read. */
type BodyState =
  | { kind: 'headers' }
  | { kind: 'length'; left: number }
  | { kind: 'chunked' }
  | { kind: 'until-close' };

export class KeepAliveConnection {
  readonly #port: number;
  readonly #host: string;
  #socket: net.Socket | null = null;
  #pending: Pending | null = null;
  #buf: Buffer = Buffer.alloc(0);
  #state: BodyState = { kind: 'headers' };
  #status = 0;
  #close = false;
  /** Connections opened so far (tests). */
  connects = 0;

  constructor(port: number, host = '127.0.0.1') {
    this.#port = port;
    this.#host = host;
  }

  /**
   * Sends a POST of `body` and resolves with the response's status once the whole response is
   * read. `headers`: extra header lines, each ending in CRLF. Rejects when the connection fails or
   * closes before the response is complete; the next request opens a new one.
   */
  post(path: string, headers: string, body: Buffer): Promise<number> {
    if (this.#pending) return Promise.reject(new Error('a request is already in flight on this connection'));
    const socket = this.#socket ?? this.#connect();
    return new Promise<number>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#state = { kind: 'headers' };
      socket.cork();
      socket.write(`POST ${path} HTTP/1.1\r\nhost: ${this.#host}:${this.#port}\r\ncontent-length: ${body.length}\r\n${headers}\r\n`, 'latin1');
      socket.write(body);
      socket.uncork();
    });
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = null;
  }

  #connect(): net.Socket {
    const socket = net.connect(this.#port, this.#host);
    this.connects++;
    socket.setNoDelay(true);
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error(`no response in ${TIMEOUT_MS} ms`)));
    this.#buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
      this.#read();
    });
    const gone = (err?: Error) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      if (this.#state.kind === 'until-close' && this.#pending && !err) return this.#done();
      this.#fail(err ?? new Error('connection closed before the response was complete'));
    };
    socket.on('error', gone);
    socket.on('close', () => gone());
    this.#socket = socket;
    return socket;
  }

  #read(): void {
    for (;;) {
      const state = this.#state;
      if (state.kind === 'headers') {
        const end = this.#buf.indexOf(HEADER_END);
        if (end < 0) return;
        const head = this.#buf.toString('latin1', 0, end);
        this.#buf = this.#buf.subarray(end + 4);
        if (!this.#headers(head)) return;
      } else if (state.kind === 'length') {
        const take = Math.min(state.left, this.#buf.length);
        state.left -= take;
        this.#buf = this.#buf.subarray(take);
        if (state.left > 0) return;
        return this.#done();
      } else if (state.kind === 'chunked') {
        // Each chunk: its size in hex (extensions after `;`), CRLF, the data, CRLF; a size of 0
        // ends the body, after optional trailer lines and an empty line.
        const eol = this.#buf.indexOf(CRLF);
        if (eol < 0) return;
        const size = parseInt(this.#buf.toString('latin1', 0, eol).split(';')[0], 16);
        if (Number.isNaN(size)) return this.#protocolError('bad chunk size');
        if (size === 0) {
          const trailerEnd = this.#buf.indexOf(CRLF, eol + 2);
          if (trailerEnd < 0) return;
          if (trailerEnd === eol + 2) {
            this.#buf = this.#buf.subarray(trailerEnd + 2);
            return this.#done();
          }
          // Trailer lines: wait for the empty line that ends them.
          const end = this.#buf.indexOf(HEADER_END, eol);
          if (end < 0) return;
          this.#buf = this.#buf.subarray(end + 4);
          return this.#done();
        }
        if (this.#buf.length < eol + 2 + size + 2) return;
        this.#buf = this.#buf.subarray(eol + 2 + size + 2);
      } else {
        this.#buf = Buffer.alloc(0); // read until the server closes
        return;
      }
    }
  }

  /** Reads a response's status line and headers; false when the connection was given up. */
  #headers(head: string): boolean {
    const lines = head.split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!status) {
      this.#protocolError(`bad status line ${JSON.stringify(lines[0].slice(0, 40))}`);
      return false;
    }
    this.#status = Number(status[1]);
    let length = -1;
    let chunked = false;
    this.#close = lines[0].startsWith('HTTP/1.0');
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(':');
      if (colon < 0) continue;
      const name = lines[i].slice(0, colon).trim().toLowerCase();
      const value = lines[i].slice(colon + 1).trim().toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.split(',').some((v) => v.trim() === 'chunked');
      else if (name === 'connection') this.#close = value.split(',').some((v) => v.trim() === 'close');
    }
    if (this.#status === 204 || this.#status === 304 || (this.#status >= 100 && this.#status < 200)) this.#state = { kind: 'length', left: 0 };
    else if (chunked) this.#state = { kind: 'chunked' };
    else if (length >= 0) this.#state = { kind: 'length', left: length };
    else {
      this.#state = { kind: 'until-close' };
      this.#close = true;
    }
    if (this.#status < 200) {
      // An interim response (100 Continue): the real one follows.
      this.#state = { kind: 'headers' };
    }
    return true;
  }

  #done(): void {
    const pending = this.#pending;
    this.#pending = null;
    this.#state = { kind: 'headers' };
    if (this.#close) this.close();
    pending?.resolve(this.#status);
  }

  #fail(err: Error): void {
    const pending = this.#pending;
    this.#pending = null;
    this.#state = { kind: 'headers' };
    pending?.reject(err);
  }

  #protocolError(message: string): void {
    const socket = this.#socket;
    this.#socket = null;
    socket?.destroy();
    this.#fail(new Error(`bad HTTP response: ${message}`));
  }
}

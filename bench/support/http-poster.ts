/**
 * The load generators' HTTP client: POSTs JSON bodies over kept-alive node:http sockets.
 * Lighter on the machine than `fetch` (no web streams around each body), so on a small
 * machine the benchmarks measure the server more than their own client.
 */
import http from 'node:http';

export interface Posted {
  readonly status: number;
  readonly body: unknown;
}

export class HttpPoster {
  private readonly agent: http.Agent;

  constructor(maxSockets: number) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  post(url: string, body: Buffer | string, headers: Record<string, string>): Promise<Posted> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
            ...headers,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : null });
            } catch (error) {
              reject(error as Error);
            }
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

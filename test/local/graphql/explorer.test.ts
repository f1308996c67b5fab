import { Script } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_KEY,
  BLOG_RESOLVERS,
  BLOG_SCHEMA,
  blogDataSource,
  startTestApi,
  type TestApi,
} from './support.js';

// The explorer: a self-contained page (no external resources) that signs in against the local
// user pool and runs queries against this endpoint.

const USER_POOL_URL = 'http://127.0.0.1:9229';
const EXPLORER_CLIENT_ID = 'explorerclient123</script><b>';

let api: TestApi;
let plain: TestApi;

beforeAll(async () => {
  const common = {
    schema: BLOG_SCHEMA,
    resolvers: BLOG_RESOLVERS,
    dataSource: blogDataSource().handler,
    apiKeys: [API_KEY],
    defaultAuthMode: 'API_KEY' as const,
  };
  api = await startTestApi({
    ...common,
    explorer: { userPoolUrl: USER_POOL_URL, clientId: EXPLORER_CLIENT_ID },
  });
  plain = await startTestApi(common);
});

afterAll(async () => {
  await Promise.all([api.close(), plain.close()]);
});

function inlineScripts(html: string): string[] {
  return [...html.matchAll(/<script nonce="[^"]+">([\s\S]*?)<\/script>/g)].map((m) => m[1] as string);
}

function config(html: string): Record<string, unknown> {
  const match = /<script type="application\/json" id="config">([\s\S]*?)<\/script>/.exec(html);
  return JSON.parse(match?.[1] ?? 'null') as Record<string, unknown>;
}

describe('GET /explorer', () => {
  it('serves a self-contained HTML page with sign-in, query, variables and result', async () => {
    const response = await fetch(`${api.url}/explorer`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    for (const id of [
      'sign-in',
      'username',
      'password',
      'query',
      'variables',
      'result',
      'token',
      'api-key',
    ]) {
      expect(html).toContain(`id="${id}"`);
    }
    // Nothing is loaded from elsewhere: no src/href to other origins, no external scripts or styles.
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1:9229)/);
  });

  it('calls the user pool InitiateAuth with the configured client id, and /graphql', async () => {
    const html = await (await fetch(`${api.url}/explorer`)).text();
    expect(config(html)).toEqual({
      graphqlPath: '/graphql',
      userPoolUrl: USER_POOL_URL,
      clientId: EXPLORER_CLIENT_ID,
    });
    const [script] = inlineScripts(html);
    expect(script).toContain('AWSCognitoIdentityProviderService.InitiateAuth');
    expect(script).toContain("AuthFlow: 'USER_PASSWORD_AUTH'");
    expect(script).toContain('IdToken');
    // Tokens stay in the page's memory.
    expect(script).not.toMatch(/localStorage|sessionStorage|document\.cookie/);
  });

  it('has a script that parses, and escapes configuration values', async () => {
    const html = await (await fetch(`${api.url}/explorer`)).text();
    const scripts = inlineScripts(html);
    expect(scripts).toHaveLength(1);
    expect(() => new Script(scripts[0] as string)).not.toThrow();
    // The hostile client id cannot end the script element or add markup.
    expect(html).not.toContain('</script><b>');
    expect(html.match(/<\/script>/g)).toHaveLength(2);
  });

  it('allows only its own inline script and connections to itself and the user pool (CSP)', async () => {
    const response = await fetch(`${api.url}/explorer`);
    const csp = response.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(await response.text()).toContain(`<script nonce="${nonce}">`);
    expect(csp).toContain(`connect-src 'self' ${USER_POOL_URL}`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('shows the schema', async () => {
    const html = await (await fetch(`${api.url}/explorer`)).text();
    expect(html).toContain('listPublicPosts(limit: Int): PostPage @aws_api_key');
  });

  it('without a user pool, offers pasting a token and connects to itself only', async () => {
    const response = await fetch(`${plain.url}/explorer`);
    const html = await response.text();
    expect(html).not.toContain('id="password"');
    expect(html).toContain('paste an ID or access token');
    expect(config(html)).toMatchObject({ userPoolUrl: null });
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self';");
  });
});

describe('GET /graphql', () => {
  it('from a browser (Accept: text/html) is the explorer', async () => {
    const response = await fetch(`${api.url}/graphql`, {
      headers: { accept: 'text/html,application/xhtml+xml' },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('id="query"');
  });

  it('otherwise is 405: queries are POSTed', async () => {
    const response = await fetch(`${api.url}/graphql`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toContain('POST');
  });
});

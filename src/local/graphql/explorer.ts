import { randomBytes } from 'node:crypto';

/**
 * A small GraphiQL-like page, self-contained (no CDN: the machine may be offline): sign in as a
 * local user (InitiateAuth USER_PASSWORD_AUTH against the local user pool; the ID token stays in
 * the page's memory), or use an API key, then run a query with variables and see the JSON
 * answer. A nonce-based Content-Security-Policy allows only the inline script and style, and
 * connections to this endpoint and the user pool.
 */

export interface ExplorerOptions {
  /** The local user pool's Cognito JSON API URL (`startUserPool().url`). */
  userPoolUrl: string;
  /** The app client id used for InitiateAuth. */
  clientId: string;
}

export interface ExplorerPage {
  html: string;
  headers: Record<string, string>;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that can sit inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function origin(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

const STYLE = `
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f5f6f8; }
  body { margin: 0; }
  header { background: #232f3e; color: #fff; padding: 0.6rem 1rem; display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 1.05rem; margin: 0 1rem 0 0; }
  header form { display: flex; gap: 0.4rem; align-items: center; flex-wrap: wrap; }
  header input { padding: 0.3rem 0.4rem; border-radius: 3px; border: 1px solid #8894a6; }
  button { padding: 0.35rem 0.8rem; border-radius: 3px; border: 0; background: #ff9900; color: #111; font-weight: 600; cursor: pointer; }
  button.secondary { background: #d5dbe3; }
  #who { font-size: 0.85rem; opacity: 0.9; }
  main { display: grid; grid-template-columns: 1fr 1fr; gap: 0.8rem; padding: 0.8rem; }
  label { display: block; font-size: 0.8rem; font-weight: 600; margin: 0.4rem 0 0.2rem; }
  textarea, pre { width: 100%; box-sizing: border-box; font: 13px/1.4 ui-monospace, Menlo, Consolas, monospace; border: 1px solid #c4cbd6; border-radius: 3px; background: #fff; padding: 0.5rem; }
  #query { height: 18rem; } #variables { height: 6rem; } #token { height: 3.2rem; }
  pre { min-height: 28rem; margin: 0; overflow: auto; white-space: pre-wrap; word-break: break-word; }
  details { grid-column: 1 / -1; } details pre { min-height: 0; max-height: 24rem; }
  .row { display: flex; gap: 0.5rem; align-items: center; margin-top: 0.5rem; }
  .hint { font-size: 0.8rem; color: #5b6577; }
`;

const SCRIPT = `
(() => {
  const config = JSON.parse(document.getElementById('config').textContent);
  const $ = (id) => document.getElementById(id);
  const say = (text) => { $('who').textContent = text; };

  function claimsOf(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(part));
    } catch (error) {
      return {};
    }
  }

  function showUser() {
    const token = $('token').value.trim();
    if (!token) { say($('api-key').value.trim() ? 'Using the API key' : 'Not signed in'); return; }
    const claims = claimsOf(token);
    const groups = Array.isArray(claims['cognito:groups']) ? claims['cognito:groups'].join(', ') : 'none';
    say('Signed in as ' + (claims['cognito:username'] || claims.username || claims.sub || '?') + ' (groups: ' + groups + ')');
  }

  async function signIn(event) {
    event.preventDefault();
    if (!config.userPoolUrl) { say('No user pool configured: paste a token instead'); return; }
    say('Signing in...');
    try {
      const response = await fetch(config.userPoolUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
        },
        body: JSON.stringify({
          AuthFlow: 'USER_PASSWORD_AUTH',
          ClientId: config.clientId,
          AuthParameters: { USERNAME: $('username').value, PASSWORD: $('password').value },
        }),
      });
      const body = await response.json();
      if (!response.ok) throw new Error((body.__type || 'HTTP ' + response.status) + ': ' + (body.message || ''));
      if (body.ChallengeName) throw new Error('the user pool asks for ' + body.ChallengeName + '; answer it with the SDK or the CLI first');
      $('token').value = body.AuthenticationResult.IdToken;
      $('password').value = '';
      showUser();
    } catch (error) {
      say('Sign-in failed: ' + error.message);
    }
  }

  function signOut() {
    $('token').value = '';
    showUser();
  }

  async function run(event) {
    if (event) event.preventDefault();
    let variables = {};
    const text = $('variables').value.trim();
    if (text) {
      try { variables = JSON.parse(text); } catch (error) { $('result').textContent = 'Variables are not valid JSON: ' + error.message; return; }
    }
    const headers = { 'content-type': 'application/json' };
    const token = $('token').value.trim();
    const apiKey = $('api-key').value.trim();
    if (token) headers.authorization = token; else if (apiKey) headers['x-api-key'] = apiKey;
    const operationName = $('operation').value.trim() || null;
    $('result').textContent = 'Running...';
    const started = performance.now();
    try {
      const response = await fetch(config.graphqlPath, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: $('query').value, variables, operationName }),
      });
      const body = await response.text();
      let pretty = body;
      try { pretty = JSON.stringify(JSON.parse(body), null, 2); } catch (error) { /* not JSON */ }
      $('result').textContent = 'HTTP ' + response.status + ' in ' + Math.round(performance.now() - started) + ' ms\\n' + pretty;
    } catch (error) {
      $('result').textContent = 'Request failed: ' + error.message;
    }
  }

  $('sign-in').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', signOut);
  $('run-form').addEventListener('submit', run);
  $('token').addEventListener('input', showUser);
  $('api-key').addEventListener('input', showUser);
  $('query').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) run(event);
  });
  showUser();
})();
`;

export const DEFAULT_EXPLORER_QUERY = `query {
  __typename
}
`;

export function explorerPage(
  options: ExplorerOptions | undefined,
  graphqlPath: string,
  schemaSdl: string,
): ExplorerPage {
  const nonce = randomBytes(16).toString('base64');
  const poolOrigin = options ? origin(options.userPoolUrl) : undefined;
  const config = {
    graphqlPath,
    userPoolUrl: poolOrigin ? options?.userPoolUrl : null,
    clientId: options?.clientId ?? null,
  };
  const signIn = poolOrigin
    ? `<form id="sign-in">
      <input id="username" autocomplete="username" placeholder="username or email" required>
      <input id="password" type="password" autocomplete="current-password" placeholder="password" required>
      <button type="submit">Sign in</button>
    </form>`
    : `<form id="sign-in"><span class="hint">No user pool configured: paste an ID or access token below.</span></form>`;

  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GraphQL explorer (local AppSync)</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>GraphQL explorer <span class="hint">local AppSync</span></h1>
  ${signIn}
  <button type="button" class="secondary" id="sign-out">Sign out</button>
  <span id="who"></span>
</header>
<main>
  <form id="run-form">
    <label for="query">Query</label>
    <textarea id="query" spellcheck="false">${escapeHtml(DEFAULT_EXPLORER_QUERY)}</textarea>
    <label for="variables">Variables (JSON)</label>
    <textarea id="variables" spellcheck="false">{}</textarea>
    <label for="operation">Operation name (optional)</label>
    <input id="operation" spellcheck="false">
    <label for="token">ID token (kept in this page only; filled by signing in, or paste one)</label>
    <textarea id="token" spellcheck="false"></textarea>
    <label for="api-key">API key (used when there is no token)</label>
    <input id="api-key" spellcheck="false" autocomplete="off">
    <div class="row"><button type="submit">Run</button><span class="hint">Ctrl+Enter in the query runs it</span></div>
  </form>
  <section>
    <label for="result">Result</label>
    <pre id="result"></pre>
  </section>
  <details>
    <summary>Schema</summary>
    <pre>${escapeHtml(schemaSdl)}</pre>
  </details>
</main>
<script type="application/json" id="config">${scriptJson(config)}</script>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
  const connect = ["'self'", ...(poolOrigin ? [poolOrigin] : [])].join(' ');
  return {
    html,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'content-security-policy':
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; ` +
        `connect-src ${connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    },
  };
}

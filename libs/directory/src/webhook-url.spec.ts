import { DomainError } from '@app/shared';
import { assertWebhookUrlAllowed, forbiddenRange } from './webhook-url';
import type { WebhookResolver } from './webhook-url';

const dns =
  (table: Record<string, string[]>): WebhookResolver =>
  async (host) => {
    const found = table[host];
    if (!found)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

const resolve = dns({
  'hooks.tea.example': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'inside.example': ['10.0.0.7'],
  'metadata.example': ['169.254.169.254'],
  'mixed.example': ['93.184.215.14', '127.0.0.1'],
  'mapped.example': ['::ffff:127.0.0.1'],
  'ula.example': ['fd00:ec2::254'],
  'cgnat.example': ['100.100.100.200'],
});

async function codeOf(url: string, allowPrivate = false): Promise<string | null> {
  try {
    await assertWebhookUrlAllowed(url, { allowPrivate, resolve });
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).status).toBe(422);
    return (e as DomainError).code;
  }
}

describe('webhook URL policy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.100.100.200', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'linkLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['64:ff9b::a00:1', 'rfc6052'],
    ['224.0.0.1', 'multicast'],
  ])('refuses %s (%s)', (address, range) => {
    expect(forbiddenRange(address)).toBe(range);
  });

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700::1'])('accepts public %s', (address) => {
    expect(forbiddenRange(address)).toBeNull();
  });

  it('https only, public addresses only, every address of a name checked', async () => {
    expect(await codeOf('https://hooks.tea.example/hejie')).toBeNull();
    expect(await codeOf('https://93.184.215.14/hejie')).toBeNull();
    for (const bad of [
      'http://hooks.tea.example/hejie',
      'https://127.0.0.1/x',
      'https://127.1/x', // WHATWG URL normalises to 127.0.0.1
      'https://2130706433/x', // 127.0.0.1 as a number
      'https://[::1]/x',
      'https://[::ffff:7f00:1]/x',
      'https://169.254.169.254/latest/meta-data/',
      'https://inside.example/x',
      'https://metadata.example/x',
      'https://mixed.example/x',
      'https://mapped.example/x',
      'https://ula.example/x',
      'https://cgnat.example/x',
      'https://nowhere.example/x',
      'https://user:pass@hooks.tea.example/x',
      'ftp://hooks.tea.example/x',
    ]) {
      expect([bad, await codeOf(bad)]).toEqual([bad, 'WEBHOOK_URL_FORBIDDEN']);
    }
  });

  it('WEBHOOK_ALLOW_PRIVATE lifts the address rule and allows http://, not other schemes', async () => {
    expect(await codeOf('http://127.0.0.1:8080/x', true)).toBeNull();
    expect(await codeOf('https://inside.example/x', true)).toBeNull();
    expect(await codeOf('ftp://127.0.0.1/x', true)).toBe('WEBHOOK_URL_FORBIDDEN');
  });
});

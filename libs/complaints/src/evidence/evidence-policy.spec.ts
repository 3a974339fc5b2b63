import {
  cleanFilename,
  contentDisposition,
  mayAttach,
  mayFetchOriginal,
  partyOf,
} from './evidence-policy';
import { missingFields } from '../case-packet/packet-rules';

describe('evidence policy', () => {
  it('takes evidence on open tickets and during an appeal, never on a closed one', () => {
    for (const s of ['awaiting_merchant', 'in_negotiation', 'escalated', 'mediating', 'appealed'])
      expect(mayAttach(s)).toBe(true);
    for (const s of ['resolved', 'withdrawn', 'declined', 'mediated', 'mediation_failed'])
      expect(mayAttach(s)).toBe(false);
  });

  it('gives a photo’s original to its uploader’s party and the office, not to the other party', () => {
    expect(partyOf({ role: 'admin' })).toBe('office');
    expect(mayFetchOriginal({ role: 'consumer' }, 'consumer')).toBe(true);
    expect(mayFetchOriginal({ role: 'merchant' }, 'consumer')).toBe(false);
    expect(mayFetchOriginal({ role: 'consumer' }, 'merchant')).toBe(false);
    expect(mayFetchOriginal({ role: 'regulator' }, 'merchant')).toBe(true);
    expect(mayFetchOriginal({ role: 'admin' }, 'consumer')).toBe(true);
    expect(mayFetchOriginal({ role: 'consumer' }, 'office')).toBe(false);
  });

  it('writes RFC 6266 Content-Disposition with an ASCII fallback and the UTF-8 name', () => {
    expect(contentDisposition('漏水 照片.jpg')).toBe(
      `attachment; filename="__ __.jpg"; filename*=UTF-8''%E6%BC%8F%E6%B0%B4%20%E7%85%A7%E7%89%87.jpg`,
    );
    // Quotes and backslashes cannot break out of the quoted fallback.
    expect(contentDisposition('a"b\\c%.pdf')).toBe(
      `attachment; filename="a_b_c_.pdf"; filename*=UTF-8''a%22b%5Cc%25.pdf`,
    );
    expect(contentDisposition("it's (1).pdf")).toContain("filename*=UTF-8''it%27s%20%281%29.pdf");
  });

  it('keeps a file name without its path or control characters, and names a nameless one', () => {
    expect(cleanFilename('C:\\Users\\me\\photo.jpg', 'image/jpeg')).toBe('photo.jpg');
    expect(cleanFilename('../../etc/passwd\u0000.pdf', 'application/pdf')).toBe('passwd.pdf');
    expect(cleanFilename(undefined, 'video/mp4')).toBe('attachment.mp4');
    expect(cleanFilename('x'.repeat(300), 'image/png')).toHaveLength(200);
  });
});

describe('case packet completeness', () => {
  const ticket = { category: 'quality', demand_type: 'refund', description: 'It leaks.' } as const;
  const respondent = {
    name: '某公司',
    creditCode: '91330106MA2XXXXXX1',
    address: '杭州',
    storeName: 'A',
  };

  it('names each missing field', () => {
    expect(missingFields(ticket, null, respondent)).toEqual([
      'complainant.realName',
      'complainant.phone',
      'complainant.address',
    ]);
    expect(missingFields(ticket, 'sealed', respondent)).toEqual([]);
    expect(
      missingFields(
        ticket,
        { realName: '张三', phone: ' ', address: '杭州' },
        {
          ...respondent,
          creditCode: '',
        },
      ),
    ).toEqual(['complainant.phone', 'respondent.creditCode']);
  });
});

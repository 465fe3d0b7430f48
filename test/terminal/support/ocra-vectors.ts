// Every RFC 6287 Appendix C test vector, as plain data that can be handed to a browser page.

/** One vector: the key is ASCII text, as in the RFC; time steps and counters are decimal numbers. */
export interface OcraVector {
  readonly suite: string;
  readonly keyText: string;
  readonly question: string | readonly [string, string];
  readonly pin?: string;
  readonly counter?: number;
  readonly timeSteps?: number;
  readonly response: string;
}

const key20 = '12345678901234567890';
const key32 = '12345678901234567890123456789012';
const key64 = `${'1234567890'.repeat(6)}1234`;
const pin = '1234';
const timeSteps = 0x132d0b6;
const repeated = (digit: number): string => String(digit).repeat(8);

const rows = (responses: readonly string[]) => responses.map((response, index) => ({ index, response }));
const mutual = (index: number) => ({ client: `CLI2222${index}`, server: `SRV1111${index}` });

/** All of Appendix C: C.1 one-way, C.2 mutual, C.3 plain signature. */
export const ocraVectors: readonly OcraVector[] = [
  ...rows([
    '237653',
    '243178',
    '653583',
    '740991',
    '608993',
    '388898',
    '816933',
    '224598',
    '750600',
    '294470',
  ]).map(({ index, response }) => ({
    suite: 'OCRA-1:HOTP-SHA1-6:QN08',
    keyText: key20,
    question: repeated(index),
    response,
  })),
  ...rows([
    '65347737',
    '86775851',
    '78192410',
    '71565254',
    '10104329',
    '65983500',
    '70069104',
    '91771096',
    '75011558',
    '08522129',
  ]).map(({ index, response }) => ({
    suite: 'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1',
    keyText: key32,
    question: '12345678',
    counter: index,
    pin,
    response,
  })),
  ...rows(['83238735', '01501458', '17957585', '86776967', '86807031']).map(({ index, response }) => ({
    suite: 'OCRA-1:HOTP-SHA256-8:QN08-PSHA1',
    keyText: key32,
    question: repeated(index),
    pin,
    response,
  })),
  ...rows([
    '07016083',
    '63947962',
    '70123924',
    '25341727',
    '33203315',
    '34205738',
    '44343969',
    '51946085',
    '20403879',
    '31409299',
  ]).map(({ index, response }) => ({
    suite: 'OCRA-1:HOTP-SHA512-8:C-QN08',
    keyText: key64,
    question: repeated(index),
    counter: index,
    response,
  })),
  ...rows(['95209754', '55907591', '22048402', '24218844', '36209546']).map(({ index, response }) => ({
    suite: 'OCRA-1:HOTP-SHA512-8:QN08-T1M',
    keyText: key64,
    question: repeated(index),
    timeSteps,
    response,
  })),
  ...rows(['28247970', '01984843', '65387857', '03351211', '83412541']).map(({ index, response }) => ({
    suite: 'OCRA-1:HOTP-SHA256-8:QA08',
    keyText: key32,
    question: [mutual(index).client, mutual(index).server] as const,
    response,
  })),
  ...rows(['15510767', '90175646', '33777207', '95285278', '28934924']).map(({ index, response }) => ({
    suite: 'OCRA-1:HOTP-SHA256-8:QA08',
    keyText: key32,
    question: [mutual(index).server, mutual(index).client] as const,
    response,
  })),
  ...rows(['79496648', '76831980', '12250499', '90856481', '12761449']).map(({ index, response }) => ({
    suite: 'OCRA-1:HOTP-SHA512-8:QA08',
    keyText: key64,
    question: [mutual(index).client, mutual(index).server] as const,
    response,
  })),
  ...rows(['18806276', '70020315', '01600026', '18951020', '32528969']).map(({ index, response }) => ({
    suite: 'OCRA-1:HOTP-SHA512-8:QA08-PSHA1',
    keyText: key64,
    question: [mutual(index).server, mutual(index).client] as const,
    pin,
    response,
  })),
  ...[
    ['SIG10000', '53095496'],
    ['SIG11000', '04110475'],
    ['SIG12000', '31331128'],
    ['SIG13000', '76028668'],
    ['SIG14000', '46554205'],
  ].map(([question, response]) => ({
    suite: 'OCRA-1:HOTP-SHA256-8:QA08',
    keyText: key32,
    question: question!,
    response: response!,
  })),
  ...[
    ['SIG1000000', '77537423'],
    ['SIG1100000', '31970405'],
    ['SIG1200000', '10235557'],
    ['SIG1300000', '95213541'],
    ['SIG1400000', '65360607'],
  ].map(([question, response]) => ({
    suite: 'OCRA-1:HOTP-SHA512-8:QA10-T1M',
    keyText: key64,
    question: question!,
    timeSteps,
    response: response!,
  })),
];

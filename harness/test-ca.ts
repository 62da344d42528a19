/**
 * A certificate authority for tests, made with openssl: one CA, and one server certificate it
 * signed for Xiaomi's two hosts, so that a TLS stand-in can answer as account.xiaomi.com to a
 * process that trusts the CA (NODE_EXTRA_CA_CERTS) and nobody else.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const openssl = (args: string[], cwd: string) => promisify(execFile)('openssl', args, { cwd });

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export type TestCertificates = {
  /** The CA's certificate file, for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  ca: string;
  key: string;
  cert: string;
};

/** A fresh CA and a certificate for `hosts`, valid for a day, in a new temporary folder. */
export const issueTestCertificates = async (hosts: string[]): Promise<TestCertificates> => {
  const dir = await mkdtemp(join(tmpdir(), 'xiaomi-test-ca-'));
  await openssl(
    ['req', '-x509', ...ecKey, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1'].concat([
      '-subj',
      '/CN=Xiaomi connector test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    ]),
    dir,
  );
  await openssl(
    ['req', ...ecKey, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${hosts[0]}`],
    dir,
  );
  await writeFile(
    join(dir, 'server.ext'),
    `subjectAltName=${hosts.map((host) => `DNS:${host}`).join(',')}\nextendedKeyUsage=serverAuth\n`,
  );
  await openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key'].concat([
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '1',
      '-extfile',
      'server.ext',
    ]),
    dir,
  );
  const read = (name: string) => readFile(join(dir, name), 'utf8');
  return {
    caFile: join(dir, 'ca.pem'),
    ca: await read('ca.pem'),
    key: await read('server.key'),
    cert: await read('server.pem'),
  };
};

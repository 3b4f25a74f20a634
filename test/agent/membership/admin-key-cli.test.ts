import test from 'ava'
import { heliotrope } from '../cli-run.ts'

test('heliotrope admin-key: --help says what show and rotate do and what to do after; a missing verb is a usage error; a missing key file says which', async t => {
  const help = await heliotrope(['admin-key', '--help'])
  t.is(help.code, 0, help.err)
  t.regex(help.out, /heliotrope admin-key show/)
  t.regex(help.out, /heliotrope admin-key rotate/)
  t.regex(help.out, /admin\.key\.retired-FINGERPRINT/)
  t.regex(help.out, /copy admin\.key to the other hosts/)
  const none = await heliotrope(['admin-key'])
  t.is(none.code, 2)
  t.regex(none.err, /admin-key needs show or rotate/)
  const missing = await heliotrope(['admin-key', 'rotate', '--admin-key', '/nonexistent/admin.key', '--socket', '/nonexistent/control.sock'])
  t.is(missing.code, 1)
  t.regex(missing.err, /\/nonexistent\/admin\.key/)
})

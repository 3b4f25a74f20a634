import test from 'ava'
import { memberListHash } from '../../agent/member-list.ts'

test('the member-list hash ignores the order of the entries but not their content', t => {
  const list = [{ host: 'a1', peerId: 'P1', dc: 'A' }, { host: 'b1', peerId: 'P2', dc: 'B' }]
  const h = memberListHash(list)
  t.regex(h, /^[0-9a-f]{64}$/)
  t.is(memberListHash([...list].reverse()), h, 'order does not matter')
  t.not(memberListHash([list[0]!]), h, 'a member fewer')
  t.not(memberListHash([list[0]!, { ...list[1]!, peerId: 'P3' }]), h, 'another peer id')
  t.not(memberListHash([list[0]!, { ...list[1]!, dc: 'A' }]), h, 'another DC')
  t.not(memberListHash([list[0]!, { host: 'b1', peerId: 'P2' }]), h, 'a DC left out')
})

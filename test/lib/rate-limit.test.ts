import test from 'ava'
import { RateLimiter } from '../../lib/rate-limit.ts'

test('a burst is allowed, then the rate; keys are independent', t => {
  const r = new RateLimiter({ burst: 3, perSecond: 2 })
  t.deepEqual([1, 2, 3, 4].map(() => r.take('a', 0)), [true, true, true, false])
  t.true(r.take('b', 0))
  t.false(r.take('a', 400))
  t.true(r.take('a', 500))
  t.false(r.take('a', 500))
  t.deepEqual([r.take('a', 10_000), r.take('a', 10_000), r.take('a', 10_000), r.take('a', 10_000)], [true, true, true, false])
})

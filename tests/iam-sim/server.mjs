// The strict fault proxy's IAM evaluator (test-only, never shipped; @cloud-copilot/iam-simulate
// is AGPL-3.0). One long-lived process per test binary: node starts in ~0.2 s, a check costs
// ~2 ms, so the harness (tests/common/faultproxy/strict/evaluator.rs) keeps one and streams.
//
// Protocol: one JSON object per line on stdin, one answer per line on stdout, in order.
//   → {"id": 7, "account": "123456789012", "principal": "arn:aws:iam::123456789012:role/worker",
//      "policy": {<identity policy document>},
//      "checks": [{"action": "s3:ListBucket", "resource": "arn:aws:s3:::b", "context": {"s3:prefix": "p/"}}]}
//   ← {"id": 7, "results": ["Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | "error: <why>", ...]}
// A line that is not a request gets {"id": null, "error": "..."}. On start it prints {"ready": true}.
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

async function check(req, c) {
  const simulation = {
    identityPolicies: [{ name: 'identity', policy: req.policy }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: {
      action: c.action,
      principal: req.principal,
      resource: { accountId: req.account, resource: c.resource },
      contextVariables: c.context ?? {}
    }
  }
  const r = await runSimulation(simulation, {})
  if (r.resultType === 'error') {
    return `error: ${JSON.stringify(r.errors)}`
  }
  return r.overallResult
}

async function answer(line) {
  let req
  try {
    req = JSON.parse(line)
  } catch (e) {
    return { id: null, error: `not JSON: ${e.message}` }
  }
  const results = []
  for (const c of req.checks ?? []) {
    try {
      results.push(await check(req, c))
    } catch (e) {
      results.push(`error: ${e.message}`)
    }
  }
  return { id: req.id ?? null, results }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
process.stdout.write(JSON.stringify({ ready: true }) + '\n')
for await (const line of rl) {
  if (line.trim() === '') continue
  process.stdout.write(JSON.stringify(await answer(line)) + '\n')
}

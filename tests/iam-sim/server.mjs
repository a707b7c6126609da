// The strict fault proxy's IAM evaluator (test-only, never shipped; @cloud-copilot/iam-simulate
// is AGPL-3.0). One long-lived process per test binary: node starts in ~0.2 s, a check costs
// ~2 ms, so the harness (tests/common/faultproxy/strict/evaluator.rs) keeps one and streams.
//
// Speed: `runSimulation` validates the policy, the action, the resource ARN's type and the
// context keys (~2-5 ms); `runUnsafeSimulation` evaluates the same way without validating
// (~0.5 ms). Each distinct (policy, action, context keys, resource shape) is validated once with
// runSimulation; later checks of the same shape, e.g. the other 999 keys of a DeleteObjects, use
// the unsafe entry point.
//
// Protocol: one JSON object per line on stdin, one answer per line on stdout, in order.
//   → {"id": 7, "account": "123456789012", "principal": "arn:aws:iam::123456789012:role/worker",
//      "policy": {<identity policy document>},
//      "checks": [{"action": "s3:ListBucket", "resource": "arn:aws:s3:::b", "context": {"s3:prefix": "p/"}}]}
//   ← {"id": 7, "results": ["Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" | "error: <why>", ...]}
// A line that is not a request gets {"id": null, "error": "..."}. On start it prints {"ready": true}.
import { createInterface } from 'node:readline'
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate'

// JSON of a policy → validated shapes.
const validated = new Map()

// What validation depends on: the action, the context keys, and the resource's type (bucket vs
// object ARN: everything after the first '/' is the key and cannot change the type).
function shape(c) {
  const resourceType = c.resource.includes('/') ? c.resource.split('/')[0] + '/' : c.resource
  return JSON.stringify([c.action, Object.keys(c.context ?? {}).sort(), resourceType])
}

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
  const policyKey = JSON.stringify(req.policy)
  if (!validated.has(policyKey)) validated.set(policyKey, new Set())
  const seen = validated.get(policyKey)
  const key = shape(c)
  if (seen.has(key)) {
    return runUnsafeSimulation(simulation, {})
  }
  const r = await runSimulation(simulation, {})
  if (r.resultType === 'error') {
    return `error: ${JSON.stringify(r.errors)}`
  }
  seen.add(key)
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

// The merge of an edit made offline that met a newer version on the server
// (412): field by field, never a silent last write wins. base is what the
// phone held when the worker made the edit, mine the worker's values (only
// the fields the worker changed), theirs the record on the server now.

const same = (a, b) => (a ?? null) === (b ?? null)

// → {body, conflicts}: body holds the worker's changes the server has not
// touched (to send again under the new version); conflicts the fields both
// sides changed to different values, [{field, mine, theirs}], for the
// worker to choose. A field both sides set alike needs nothing.
export function mergeEdit(base, mine, theirs) {
  const body = {}
  const conflicts = []
  for (const [field, value] of Object.entries(mine)) {
    if (same(value, theirs[field])) continue
    if (same(base[field], theirs[field])) body[field] = value
    else conflicts.push({ field, mine: value ?? null, theirs: theirs[field] ?? null })
  }
  return { body, conflicts }
}

// The worker's choice: picks maps each conflicting field to 'mine' or
// 'theirs'. → the body to send ({} when the server already holds every
// choice); throws when a conflict is left unchosen.
export function settle(body, conflicts, picks) {
  const out = { ...body }
  for (const c of conflicts) {
    if (picks[c.field] === 'mine') out[c.field] = c.mine
    else if (picks[c.field] !== 'theirs') throw new Error(`no choice for ${c.field}`)
  }
  return out
}

// The values of the given fields in a record: the new base after a merge.
export function pick(record, fields) {
  return Object.fromEntries(fields.map((f) => [f, record[f] ?? null]))
}

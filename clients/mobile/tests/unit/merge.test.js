// The field-by-field merge of an offline edit that met a newer version.
import { describe, expect, it } from 'vitest'
import { mergeEdit, pick, settle } from '../../src/merge.js'

describe('mergeEdit', () => {
  const base = { phone: '139-1', address: '1栋' }
  // [what the case is, mine, theirs, body, conflicting fields]
  const cases = [
    ['only the phone changed a field: kept', { phone: '139-2' }, base, { phone: '139-2' }, []],
    ['the server changed another field: mine kept', { phone: '139-2' }, { ...base, address: '3栋' }, { phone: '139-2' }, []],
    ['both changed it alike: nothing to send', { phone: '139-2' }, { ...base, phone: '139-2' }, {}, []],
    ['both changed it differently: a conflict', { phone: '139-2' }, { ...base, phone: '139-3' }, {}, ['phone']],
    ['one conflict, one kept', { phone: '139-2', address: '2栋' }, { ...base, phone: '139-3' }, { address: '2栋' }, ['phone']],
    ['the server cleared it, the phone changed it', { phone: '139-2' }, { ...base, phone: null }, {}, ['phone']],
    ['the phone cleared it, the server did not touch it', { phone: null }, base, { phone: null }, []],
    ['missing on the server counts as empty', { address: null }, { phone: '139-1' }, {}, []],
  ]
  for (const [what, mine, theirs, body, fields] of cases) {
    it(what, () => {
      const r = mergeEdit(base, mine, theirs)
      expect(r.body).toEqual(body)
      expect(r.conflicts.map((c) => c.field)).toEqual(fields)
    })
  }
  it('a conflict holds both values', () => {
    expect(mergeEdit(base, { phone: '139-2' }, { phone: '139-3' }).conflicts).toEqual([{ field: 'phone', mine: '139-2', theirs: '139-3' }])
  })
})

describe('settle', () => {
  const conflicts = [{ field: 'phone', mine: '139-2', theirs: '139-3' }]
  it('mine is sent with the rest', () => {
    expect(settle({ address: '2栋' }, conflicts, { phone: 'mine' })).toEqual({ address: '2栋', phone: '139-2' })
  })
  it('theirs needs nothing sent', () => {
    expect(settle({}, conflicts, { phone: 'theirs' })).toEqual({})
  })
  it('no choice is refused', () => {
    expect(() => settle({}, conflicts, {})).toThrow(/phone/)
  })
})

describe('pick', () => {
  it('takes the fields, empty as null', () => {
    expect(pick({ phone: '1', name: 'x' }, ['phone', 'address'])).toEqual({ phone: '1', address: null })
  })
})

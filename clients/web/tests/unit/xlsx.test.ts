// The in-browser .xlsx: zip structure, CRC, column names, escaping.
import { describe, expect, it } from 'vitest'
import { colName, crc32, xlsx, zipStored } from '../../src/xlsx'

describe('xlsx', () => {
  it('crc32 of "123456789" is the check value', () => expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926))
  it.each([[0, 'A'], [25, 'Z'], [26, 'AA'], [27, 'AB'], [701, 'ZZ'], [702, 'AAA']])('colName(%i) = %s', (i, s) => expect(colName(i)).toBe(s))
  it('zipStored writes a local header per file and the end record', () => {
    const z = zipStored([{ name: 'a.txt', data: new Uint8Array([1, 2, 3]) }])
    const v = new DataView(z.buffer)
    expect(v.getUint32(0, true)).toBe(0x04034b50)
    expect(v.getUint32(z.length - 22, true)).toBe(0x06054b50)
    expect(v.getUint16(z.length - 22 + 10, true)).toBe(1)
  })
  it('a workbook carries the sheet with escaped text and numbers', () => {
    const z = xlsx('清单', ['姓名', '天数'], [['张<伟>&', 3], [null, 0]])
    const text = new TextDecoder().decode(z)
    expect(text).toContain('xl/worksheets/sheet1.xml')
    expect(text).toContain('<c r="A2" t="inlineStr"><is><t>张&lt;伟&gt;&amp;</t></is></c><c r="B2"><v>3</v></c>')
    expect(text).toContain('<row r="3"><c r="B3"><v>0</v></c></row>')
  })
})

// What each role sees: menus, diagnoses, clinical records, risk; and the token clock.
import { describe, expect, it } from 'vitest'
import { menuFor, readsClinical, seesDiagnosis, seesRisk, type Role } from '../../src/stores/auth'
import { secondsLeft } from '../../src/api/client'

describe('role views', () => {
  it.each<[Role, string[]]>([
    ['admin', ['首页', '工作清单', '患者', '通报', '三网比对', '救治救助', '专项行动', '流转', '台账', '预警处置', '信息交换']],
    ['doctor', ['首页', '工作清单', '患者', '通报', '三网比对', '专项行动', '流转', '台账', '预警处置', '信息交换']],
    ['police', ['首页', '患者', '通报', '三网比对', '专项行动', '台账', '预警处置', '信息交换']],
    ['civil_affairs', ['首页', '患者', '通报', '救治救助', '专项行动', '台账', '信息交换']],
    ['grid_worker', ['工作清单', '患者', '通报', '台账']],
    ['service', []],
  ])('%s menu', (role, titles) => expect(menuFor(role).map((m) => m.title)).toEqual(titles))

  it.each<[Role, boolean, boolean, boolean]>([
    ['admin', false, false, true],
    ['official', true, true, true],
    ['doctor', true, true, true],
    ['police', false, false, true],
    ['civil_affairs', false, false, false],
    ['grid_worker', false, true, true],
  ])('%s: diagnosis %s, clinical records %s, risk %s', (role, diagnosis, clinical, risk) => {
    expect(seesDiagnosis(role)).toBe(diagnosis)
    expect(readsClinical(role)).toBe(clinical)
    expect(seesRisk(role)).toBe(risk)
  })

  it('secondsLeft reads exp and treats garbage as expired', () => {
    const payload = btoa(JSON.stringify({ exp: 1000 })).replace(/=+$/, '')
    expect(secondsLeft(`h.${payload}.s`, 400_000)).toBe(600)
    expect(secondsLeft('garbage', 0)).toBe(0)
  })
})

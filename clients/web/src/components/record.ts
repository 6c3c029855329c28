// Columns of a RecordTable: a title and how to write a row's cell.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Row = Record<string, any>
export interface Col {
  title: string
  cell: (row: Row) => string
  width?: number
}

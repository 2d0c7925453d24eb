// Files the import tests send: a bureau's register as CSV and as an Excel workbook, good and bad.
import ExcelJS from 'exceljs';

export const GOOD_CSV = `应急资源登记表,,,,,,,,,,,,,
编号,类型,名称,纬度,经度,所属企业,所属辖区,联系人,联系电话,专业,人数,容量,物资名称,数量,单位,序号
team-1,救援队伍,危化品救援队,30.7431,121.2395,,金山区应急管理局,张伟,13800000001,危化品;搜救,45,,,,,1
wh-1,物资仓库,应急物资库,30.7536,121.2602,Acme Chemicals,,赵磊,13800000004,,,,防毒面具,200,个,2
wh-1,物资仓库,应急物资库,,,,,,,,,,吸附棉,"1,500",千克,3
wh-1,,,,,,,,,,,,3M 6800 全面罩,20,个,4
,避难场所,滨海公园避难场所,30.725,121.31,,金山区应急管理局,,,,,5000,,,,5
,专家,周建华,30.76,121.30,,金山区应急管理局,周建华,13800000007,hazmat、化工工艺,,,,,,6
`;

/** Every cell wrong in some way, one per row, and a row of a resource whose first row was wrong. */
export const BAD_CSV = `id,kind,name,lat,lon,enterprise,jurisdiction,phone,speciality,people,capacity,item,quantity,unit
t-1,rescue_team,Team without people,30.74,121.24,,Bureau,138,hazmat,,,,,
t-2,spaceship,Unknown kind,30.74,121.24,,Bureau,138,,,,,,
t-3,fire_station,Swapped,121.27,30.76,,Bureau,119,,,,,,
t-4,shelter,No owner,30.72,121.31,,,,,,5000,,,
t-5,warehouse,Other enterprise,30.75,121.26,bravo,,,,,,gas_mask,10,pcs
t-6,warehouse,Bad quantity,30.75,121.26,,Bureau,,,,,gas_mask,lots,pcs
t-6,warehouse,Bad quantity,,,,,,,,,absorbent,5,kg
t-7,expert,Unknown speciality,30.76,121.30,,Bureau,139,astrology,,,,,
bad id!,shelter,Bad id,30.72,121.31,,Bureau,,,,200,,,
t-8,shelter,,30.72,121.31,,Bureau,,,,200,,,
`;

/** A workbook as Excel writes it: a sheet of rows (ExcelJS writes what Excel reads). */
export async function xlsx(rows: (string | number | null)[][], options: { title?: string } = {}): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('应急资源');
  if (options.title) ws.addRow([options.title]);
  for (const r of rows) ws.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export const XLSX_GOOD_ROWS: (string | number | null)[][] = [
  ['编号', '类型', '名称', '纬度（WGS84）', '经度（WGS84）', '所属辖区', '联系电话', '专业', '人数', '物资名称', '数量', '单位'],
  ['x-team', '救援队伍', '化工区救援队', 30.7431, 121.2395, '金山区应急管理局', '13800000001', '危化品', 30, null, null, null],
  ['x-wh', '物资仓库', '化工区仓库', 30.7536, 121.2602, '金山区应急管理局', null, null, null, '正压式空气呼吸器', 30, '套'],
  ['x-wh', '物资仓库', '化工区仓库', null, null, null, null, null, null, '堵漏器材', 12, '套'],
  ['x-fs', '消防站', '化工区消防站', 30.7598, 121.2712, '金山区消防救援支队', '021-57900119', null, 32, null, null, null],
];


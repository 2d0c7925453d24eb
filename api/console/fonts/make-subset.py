#!/usr/bin/python3
# Makes noto-sans-sc-subset.woff2, the font the console ships so that its Chinese never depends on the
# operator's machine: Noto Sans CJK SC Regular (SIL Open Font License 1.1, OFL.txt) cut to printable
# ASCII and Latin-1, general and CJK punctuation, arrows and math signs the console uses, the 3,755
# level-1 hanzi of GB 2312 (the common characters of names and places) and every character of the
# console's and the catalogs' own texts. Run again after adding Chinese text with new characters:
#   apt-get install fonts-noto-cjk python3-fonttools python3-brotli
#   /usr/bin/python3 api/console/fonts/make-subset.py
# (Not run by the tests; the result is committed.)
import pathlib, subprocess

ROOT = pathlib.Path(__file__).resolve().parents[3]
SOURCE = '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc'
OUT = pathlib.Path(__file__).with_name('noto-sans-sc-subset.woff2')

chars = set(chr(c) for c in range(0x20, 0x7F)) | set(chr(c) for c in range(0xA0, 0x100))
for hi in range(0xB0, 0xD8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode('gb2312'))
        except UnicodeDecodeError:
            pass
chars |= set('，。、；：？！“”‘’（）【】《》—…·←→↑↓●○■□▲△▼▽★☆≤≥±×÷°℃‰')
for f in ['api/console/i18n.js', 'api/console/app.js', 'api/console/index.html', 'contract/catalog.ts', 'contract/alarms.ts']:
    chars |= set((ROOT / f).read_text(encoding='utf8'))
text = ''.join(sorted(c for c in chars if c.isprintable()))
subprocess.run(['/usr/bin/python3', '-m', 'fontTools.subset', SOURCE, '--font-number=2', f'--text={text}', '--flavor=woff2', '--layout-features=*', '--desubroutinize', f'--output-file={OUT}'], check=True)
print(f'{OUT}: {len(text)} characters, {OUT.stat().st_size} bytes')

#!/usr/bin/env python3
"""Rewrites the first code cell of every workbook notebook to the setup both engines accept (README, "How notebooks
load the library"): `#r "nuget: MLCourse, 0.1.0"` with no package source and no backend line. Idempotent; keeps the
notebooks' JSON format. Used once for the change, kept so that merged branches can be brought in line again."""
import glob, json, os, sys

OLD = ['#i "nuget: ../artifacts/packages"\n', '#r "nuget: TorchSharp-cpu, 0.107.0"\n']
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
changed = 0
for d in ('notebooks', 'solutions', 'exercises'):
    for path in sorted(glob.glob(os.path.join(root, d, '*.ipynb'))):
        text = open(path, encoding='utf-8').read()
        nb = json.loads(text)
        cell = next(c for c in nb['cells'] if c['cell_type'] == 'code')
        source = [line for line in cell['source'] if line not in OLD]
        if source != cell['source']:
            cell['source'] = source
            open(path, 'w', encoding='utf-8').write(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
            changed += 1
print(f'{changed} notebook(s) changed', file=sys.stderr)

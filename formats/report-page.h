/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * report-page.h - private to report.c: the style sheet and script inlined into every report,
 * so the page needs nothing from the network.
 */
#ifndef XAI_REPORT_PAGE_H
#define XAI_REPORT_PAGE_H

static const char xai_report_page_css[] =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:0 auto;max-width:1100px;padding:0 1.5em 2em;"
    "color:#222;line-height:1.4}"
    "header{border-bottom:3px solid #345;margin-bottom:.5em}h1{color:#345;margin:.6em 0 .3em}"
    "h2{color:#345;border-bottom:1px solid #ccc;margin-top:1.5em}h3{margin:.8em 0 .3em}"
    "nav{position:sticky;top:0;background:#f4f6f8;padding:.4em .6em;border:1px solid #dde;z-index:1}"
    "nav a{margin-right:1.2em;color:#246;text-decoration:none;font-weight:bold}"
    "table{border-collapse:collapse;margin:.3em 0;font-size:.9em}"
    "th,td{border:1px solid #ccd;padding:.2em .5em;text-align:left;vertical-align:top;overflow-wrap:anywhere}"
    "table.kv th{background:#f4f6f8;white-space:nowrap}"
    "table.sortable th{background:#e8edf2;cursor:pointer;user-select:none;white-space:nowrap}"
    "table.sortable th[data-dir=asc]::after{content:' \\25B2'}table.sortable th[data-dir=desc]::after{content:' \\25BC'}"
    "table.sortable tbody tr:nth-child(even){background:#fafbfc}"
    ".tbl{max-height:32em;overflow:auto;margin-bottom:1em}.caption{font-weight:bold;margin:.6em 0 .2em}"
    "figure.fig{display:inline-block;margin:.5em;vertical-align:top;max-width:min(100%,520px)}"
    "figure.fig img{max-width:100%;height:auto;border:1px solid #ddd}"
    "figcaption{font-size:.85em;color:#444;max-width:640px;word-break:break-all}"
    "ul.messages li.error{color:#a00;font-weight:bold}ul.messages li.warning{color:#8a5a00}"
    "td.ok{color:#070;font-weight:bold}td.bad{color:#a00;font-weight:bold}"
    "code{font-size:.85em;word-break:break-all}ul.outputs{columns:2;font-size:.85em}"
    "details.card{margin:.4em 0}details.card>summary{font-weight:bold;cursor:pointer;margin:.3em 0}"
    "footer{margin-top:2em;border-top:1px solid #ccc;color:#666;font-size:.8em;padding-top:.5em}";

/* Sortable tables (numeric when every cell but n/a is a number; n/a last) and the render
 * check: after load every image must be decoded with a non-zero width. */
static const char xai_report_page_js[] =
    "(function(){'use strict';\n"
    "function num(s){s=s.trim();return s===''||s==='n/a'?NaN:Number(s);}\n"
    "function sortBy(t,col,th){var ths=t.tHead.rows[0].cells;"
    "var dir=th.getAttribute('data-dir')==='asc'?'desc':'asc';"
    "for(var k=0;k<ths.length;k++)ths[k].removeAttribute('data-dir');th.setAttribute('data-dir',dir);"
    "var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);"
    "var numeric=rows.every(function(r){var s=r.cells[col].textContent.trim();return s==='n/a'||!isNaN(num(s));});"
    "rows.sort(function(a,b){var x=a.cells[col].textContent,y=b.cells[col].textContent,c;"
    "if(numeric){var p=num(x),q=num(y);if(isNaN(p)&&isNaN(q))return 0;if(isNaN(p))return 1;if(isNaN(q))return -1;"
    "c=p<q?-1:p>q?1:0;}else c=x.localeCompare(y);return dir==='asc'?c:-c;});"
    "rows.forEach(function(r){body.appendChild(r);});}\n"
    "Array.prototype.forEach.call(document.querySelectorAll('table.sortable'),function(t){"
    "Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,col){th.title='click to sort';"
    "th.addEventListener('click',function(){sortBy(t,col,th);});});});\n"
    "function check(){var im=document.images,ok=0;for(var i=0;i<im.length;i++)"
    "if(im[i].complete&&im[i].naturalWidth>0&&im[i].naturalHeight>0)ok++;"
    "var e=document.getElementById('xai-report-check');e.setAttribute('data-figures',String(im.length));"
    "e.setAttribute('data-decoded',String(ok));e.setAttribute('data-rendered','1');}\n"
    "if(document.readyState==='complete')check();else window.addEventListener('load',check);\n"
    "})();\n";

#endif /* XAI_REPORT_PAGE_H */

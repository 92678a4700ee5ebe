# bench/chart.gp - per-job cost of bgjob and every alternative, log scale.
# Called by bench/summarize.py:  gnuplot -e "datafile='…'; outfile='…'; subtitle='…'" bench/chart.gp
# Data columns: index, "label", median µs, min, max, kind (1 bgjob, 0 alternative, 2 reference), "text".
set terminal pngcairo size 1100,620 font "DejaVu Sans,11"
set output outfile
set title "Cost per job, µs (log scale; lower is better)\n{/*0.8 ".subtitle."}"
set logscale x 10
set xrange [0.3:300000]
set format x "10^{%T}"
set xtics nomirror
set mxtics 10
set grid xtics mxtics lc rgb "#dddddd"
set ytics nomirror noenhanced
set yrange [-0.7:*]
set offsets 0, 0, 0.7, 0
set style fill solid 0.85 border -1
set key bottom right box opaque
set lmargin 30
set rmargin 4
floor = 0.3
plot datafile using (($6 == 1) ? sqrt(floor * $3) : 1/0):1:(floor):3:($1 - 0.35):($1 + 0.35):ytic(2) \
         with boxxyerror lc rgb "#1b7a3a" title "bgjob", \
     '' using (($6 == 0) ? sqrt(floor * $3) : 1/0):1:(floor):3:($1 - 0.35):($1 + 0.35) \
         with boxxyerror lc rgb "#c0504d" title "alternatives", \
     '' using (($6 == 2) ? sqrt(floor * $3) : 1/0):1:(floor):3:($1 - 0.35):($1 + 0.35) \
         with boxxyerror lc rgb "#8c8c8c" title "let (no background job at all)", \
     '' using 3:1:4:5 with xerrorbars pt 0 lc rgb "black" lw 1.2 notitle, \
     '' using ($5 * 1.25):1:7 with labels left font ",10" notitle

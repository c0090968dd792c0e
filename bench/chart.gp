# SPDX-License-Identifier: MIT
# bench/chart.gp — ops/s per case and implementation, log scale, from the
# data report.py writes (report.py table results.json --chart-data FILE):
# each bar is the median of the implementation's rounds.
#
#   gnuplot -e "datafile='chart.dat'; outfile='bench/results.png'; subtitle='...'" bench/chart.gp
#
# One cluster per case and backend; one bar per implementation (raw C and
# MikroORM: the variant with the best median). An implementation with no figure anywhere (calx before it
# is built) has no column; a gap in a cluster is one with no figure there
# (asyncpg on SQLite).
if (!exists("datafile")) datafile = "chart.dat"
if (!exists("outfile")) outfile = "bench/results.png"
if (!exists("subtitle")) subtitle = ""
# report.py writes DATAFILE.gp beside the data: ncols (the label column,
# then one per implementation with a figure) and their colours.
load datafile.".gp"

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1500,720 font "sans,10" noenhanced
} else {
    set terminal png size 1500,720 noenhanced
}
set output outfile

set datafile separator "\t"
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border rgb "#404040"
set boxwidth 0.9
set logscale y 10
set yrange [10:*]
set format y "%.0s%c"
set ylabel "operations per second, median of the rounds (log scale; higher is better)"
set grid ytics mytics lc rgb "#d0d0d0"
set xtics rotate by -25 scale 0 nomirror
set key outside top center horizontal
set title "calx benchmarks: ops/s per case and implementation\n".subtitle
plot for [i=2:ncols] datafile using i:xtic(1) title columnheader(i) lc rgb word(colors, i - 1)

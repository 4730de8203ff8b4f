# The plot of `make bench`: every ratio that has a target, median with its
# min-max range, on a log scale, and the target beside it.
# gnuplot -e "datafile='...'; outfile='...'" plot.gp
set terminal pngcairo size 1800,900 font "sans,10"
set output outfile
set termoption noenhanced
set title "ODP against pinned memory on soft-RoCE (rxe), QEMU TCG: ratios measured in one boot (median, min-max)"
set logscale y
set yrange [0.01:100000]
set grid ytics
set ylabel "ratio"
set xtics rotate by -60 left font "sans,8"
set bmargin 10
set rmargin 8
set key top left
set boxwidth 0.6
set style fill solid 0.4
plot datafile using 0:2:xtic(1) with boxes lc rgb "#4477aa" title "ratio (median)", \
     '' using 0:2:3:4 with yerrorbars lc rgb "black" pt 0 title "min-max", \
     '' using 0:5 with points pt 9 ps 1.5 lc rgb "red" title "target"

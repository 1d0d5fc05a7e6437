# flagship.gp: the flagship figure (called by scripts/flagship.sh with dir, slow, fast).
set terminal pngcairo size 1300,900 font "DejaVu Sans,11"
set output dir."/flagship.png"
set datafile separator ","
set logscale x
set format x "10^{%L}"
set xlabel "time t (units of 1/eta_x)"
set xrange [1e-2:1e3]
set grid
set key bottom left box opaque
set multiplot layout 2,2 title "Minimal model, two classes of 500 samples, d = 16, exact integrator: 3% frustrated samples (red) vs none (blue).\nDashed lines: 1/fast rate and 1/slow rate of the exact spectrum (f = 0.03)."
set arrow 1 from 1.0/fast, graph 0 to 1.0/fast, graph 1 nohead dt 2 lc "gray40"
set arrow 2 from 1.0/slow, graph 0 to 1.0/slow, graph 1 nohead dt 2 lc "gray40"
set logscale y
set format y "10^{%L}"
set yrange [1e-8:3]
set ylabel "loss L(t)"
set title "loss: plateau, then a second drop"
plot dir."/frustrated/metrics.csv" using 1:2 skip 1 with lines lw 2 lc "red" title "f = 0.03", \
     dir."/clean/metrics.csv" using 1:2 skip 1 with lines lw 2 lc "blue" title "f = 0"
unset logscale y
set format y "%g"
set ylabel "accuracy (clean samples)"
set yrange [0:1.05]
set title "accuracy rises on the fast timescale"
plot dir."/frustrated/metrics.csv" using 1:3 skip 1 with lines lw 2 lc "red" title "f = 0.03", \
     dir."/clean/metrics.csv" using 1:3 skip 1 with lines lw 4 lc "blue" dt 3 title "f = 0"
set ylabel "margin (relative to D(0))"
set autoscale y
set title "margin: the collapse accuracy cannot see"
plot dir."/frustrated/metrics.csv" using 1:5 skip 1 with lines lw 2 lc "red" title "f = 0.03", \
     dir."/clean/metrics.csv" using 1:5 skip 1 with lines lw 2 lc "blue" title "f = 0"
set logscale y
set format y "10^{%L}"
set yrange [1e-8:3]
set ylabel "min label distance D(t)"
set title "D(t) decays at the slow rate when f > 0"
plot dir."/frustrated/metrics.csv" using 1:6 skip 1 with lines lw 2 lc "red" title "f = 0.03", \
     dir."/clean/metrics.csv" using 1:6 skip 1 with lines lw 2 lc "blue" title "f = 0"
unset multiplot

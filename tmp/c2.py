import numpy as np, shapely
from jixi_geo.controls.clip import clip_area
sub = np.array([shapely.box(0,0,10,10), shapely.box(5,5,20,20), shapely.box(20,0,30,10), shapely.box(10,0,20,10)])
win = np.array([shapely.box(2,2,12,12)]*4)
print(clip_area(sub, win), shapely.area(shapely.intersection(sub, win)))

"""Made-up people for demo data: Chinese and Mongolian names and mobile numbers."""
import random

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
            "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文")
GIVEN = ("建国明华丽娟志强秀英海军玉兰文博宏伟晓东春梅振华金花永刚"
         "小红德胜瑞峰巴特尔其木格乌云那日苏图雅额尔敦格日乐敖其尔")
MONGOL_GIVEN = ["巴特尔", "其木格", "乌云", "那日苏", "图雅", "额尔敦", "格日乐", "敖其尔", "苏和", "萨仁"]


def phone_number(rng: random.Random) -> str:
    return rng.choice(["138", "139", "150", "151", "152", "158", "186", "187"]) + \
        f"{rng.randrange(10**8):08d}"


def person_name(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return rng.choice(MONGOL_GIVEN) + rng.choice(["", "图", "夫"])
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))

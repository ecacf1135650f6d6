"""Deterministic synthetic Chinese medical Q&A data, written for this project, used by the demo
pipeline, test fixtures and benchmarks (cMedQA2-, dialogue-CSV- and Huatuo-JSONL-shaped files)."""

from __future__ import annotations

import csv
import json
import random
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence, TypeVar

__all__ = [
    "MESSY_KINDS",
    "SyntheticQA",
    "generate_questions",
    "mainland_id_check_digit",
    "write_cmedqa2",
    "write_dialogue_csv",
    "write_huatuo_jsonl",
]

MESSY_KINDS = (
    "exact_duplicate",
    "near_duplicate",
    "html",
    "fullwidth_whitespace",
    "pii",
    "short_answer",
    "embedded_newline",
)

T = TypeVar("T")

MIN_ANSWER_CHARS = 60
MAX_ANSWER_CHARS = 300


@dataclass(frozen=True)
class SyntheticQA:
    question_id: int
    department: str
    title: str
    ask: str
    answers: tuple[str, ...]


# --------------------------------------------------------------------------------------------
# Vocabulary (hand-written for this project)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Condition:
    name: str
    symptoms: tuple[str, ...]
    checks: tuple[str, ...]
    treatments: tuple[str, ...]


@dataclass(frozen=True)
class _Subject:
    name: str  # how the asker refers to the patient: 我 / 我爸 / 孩子 ...
    patient_ref: str  # how the doctor refers to the patient: 您 / 您父亲 / 孩子 ...
    sex: str | None  # None: drawn at random
    min_age: int
    max_age: int
    is_child: bool = False


@dataclass(frozen=True)
class _Department:
    name: str
    weight: int
    subjects: tuple[_Subject, ...]
    conditions: tuple[_Condition, ...]
    lifestyle: tuple[str, ...]
    red_flags: tuple[str, ...]
    greetings: tuple[str, ...] = ()


def _cond(name: str, symptoms: str, checks: str, treatments: str) -> _Condition:
    return _Condition(name, tuple(symptoms.split("|")), tuple(checks.split("|")), tuple(treatments.split("|")))


_ADULT_SUBJECTS = (
    _Subject("我", "您", None, 18, 65),
    _Subject("我", "您", None, 18, 65),
    _Subject("我", "您", None, 18, 65),
    _Subject("我爸", "您父亲", "男", 50, 85),
    _Subject("我妈", "您母亲", "女", 48, 85),
    _Subject("我爱人", "您爱人", None, 25, 70),
)
_OLDER_SUBJECTS = (
    _Subject("我", "您", None, 30, 75),
    _Subject("我", "您", None, 30, 75),
    _Subject("我爸", "您父亲", "男", 55, 88),
    _Subject("我妈", "您母亲", "女", 55, 88),
    _Subject("家里老人", "老人", None, 65, 90),
)
_CHILD_SUBJECTS = (
    _Subject("孩子", "孩子", None, 1, 12, True),
    _Subject("我家孩子", "孩子", None, 1, 12, True),
    _Subject("宝宝", "宝宝", None, 1, 4, True),
    _Subject("我儿子", "孩子", "男", 1, 14, True),
    _Subject("我女儿", "孩子", "女", 1, 14, True),
)
_FEMALE_SUBJECTS = (
    _Subject("我", "您", "女", 20, 48),
    _Subject("我", "您", "女", 20, 48),
    _Subject("我", "您", "女", 20, 48),
    _Subject("我老婆", "您爱人", "女", 22, 45),
    _Subject("我女朋友", "您女朋友", "女", 20, 35),
)

_DEPARTMENTS: tuple[_Department, ...] = (
    _Department(
        "消化科", 16, _ADULT_SUBJECTS,
        (
            _cond("慢性胃炎", "胃胀|饭后上腹部隐隐作痛|反酸|打嗝|没有胃口|恶心",
                  "胃镜|碳13呼气试验|血常规", "服用铝碳酸镁等胃黏膜保护剂|规律服用抑酸药物|调整饮食、少食多餐"),
            _cond("胃食管反流病", "烧心|反酸|胸骨后烧灼感|嗓子里有异物感|晚上躺下后咳嗽",
                  "胃镜|食管24小时pH监测|食管测压", "服用奥美拉唑等质子泵抑制剂|睡觉时把床头抬高|晚饭后两三个小时内不躺下"),
            _cond("消化性溃疡", "空腹时胃痛|半夜胃疼醒|大便发黑|反酸|吃完饭胃痛减轻",
                  "胃镜|碳13呼气试验|大便潜血", "规范使用质子泵抑制剂八周左右|根除幽门螺杆菌治疗|停用止痛药等伤胃的药物"),
            _cond("肠易激综合征", "肚子疼、拉完就好|大便时干时稀|肚子咕噜响|一紧张就想上厕所|腹胀",
                  "肠镜|大便常规|腹部B超", "服用匹维溴铵缓解肠道痉挛|服用益生菌调节肠道菌群|减轻压力、调整情绪"),
            _cond("功能性消化不良", "吃一点就饱|饭后腹胀|上腹部不适|嗳气|食欲差",
                  "胃镜|腹部B超|肝功能", "服用促胃肠动力药物|少食多餐、细嚼慢咽|饭后适当散步"),
            _cond("脂肪肝", "右上腹发胀|容易疲劳|体检发现转氨酶高|体重增加很快|饭后犯困",
                  "肝脏B超|肝功能|血脂", "控制体重、减少油腻饮食|每周坚持有氧运动|服用保肝药物"),
            _cond("胆囊结石", "右上腹疼痛|吃油腻食物后肚子疼|后背发胀|恶心想吐|消化不良",
                  "腹部B超|肝功能|上腹部CT", "清淡低脂饮食|必要时行腹腔镜胆囊切除术|疼痛发作时解痉止痛"),
            _cond("急性胃肠炎", "拉肚子|呕吐|肚子绞痛|发低烧|浑身没劲",
                  "血常规|大便常规|电解质", "口服补液盐预防脱水|服用蒙脱石散止泻|暂时吃清淡的流食"),
            _cond("功能性便秘", "大便干结|三四天才解一次大便|排便费力|肚子胀|解完还觉得没解干净",
                  "肠镜|大便常规|腹部平片", "多吃富含膳食纤维的蔬菜水果|服用乳果糖等渗透性泻药|养成定时排便的习惯"),
        ),
        ("少吃辛辣、油腻和生冷的食物", "三餐定时定量，不要暴饮暴食", "饭后不要马上躺下", "戒烟戒酒，少喝浓茶和咖啡", "保持心情舒畅，避免精神紧张"),
        ("呕血、黑便", "剧烈腹痛", "持续呕吐、不能进食", "皮肤和眼睛发黄"),
    ),
    _Department(
        "心血管科", 12, _OLDER_SUBJECTS,
        (
            _cond("高血压", "头晕|后脑勺发紧|血压一百五六|脖子发硬|耳鸣",
                  "二十四小时动态血压|心脏彩超|肾功能", "长期规律服用降压药|每天早晚各测一次血压并记录|减少食盐摄入"),
            _cond("冠心病", "活动后胸闷|胸口像压了块石头|爬楼梯喘不上气|左肩背部疼|心前区隐痛",
                  "心电图|冠脉CTA|运动平板试验", "长期服用阿司匹林和他汀类药物|随身携带硝酸甘油|必要时做冠脉造影评估是否放支架"),
            _cond("心律失常", "心慌|心跳忽快忽慢|感觉心脏漏跳一拍|胸闷|乏力",
                  "心电图|二十四小时动态心电图|心脏彩超", "避免熬夜和浓茶咖啡|服用抗心律失常药物|查甲状腺功能排除其他原因"),
            _cond("高脂血症", "体检血脂偏高|眼睑上长黄色小疙瘩|头昏脑涨|容易犯困|体重超标",
                  "血脂四项|颈动脉彩超|肝功能", "服用他汀类降脂药物|少吃肥肉和动物内脏|坚持每周五次以上的快走"),
            _cond("慢性心力衰竭", "走几步路就喘|晚上不能平躺|脚脖子肿|尿量减少|乏力",
                  "心脏彩超|脑钠肽|胸片", "控制每日饮水量并记录体重|规律服用利尿剂等药物|定期到心内科门诊调整用药"),
            _cond("病毒性心肌炎", "感冒后心慌|胸闷气短|乏力|低烧|胸口隐隐作痛",
                  "心肌酶|心电图|心脏彩超", "卧床休息、避免剧烈运动|营养心肌治疗|定期复查心电图"),
            _cond("心房颤动", "心跳乱跳|心慌胸闷|头晕眼黑|运动耐量下降|脉搏不齐",
                  "心电图|动态心电图|心脏彩超", "评估后服用抗凝药预防血栓|控制心室率|必要时考虑射频消融手术"),
        ),
        ("低盐低脂饮食，每天食盐不超过五克", "戒烟限酒", "保持情绪稳定，避免激动", "适当做快走、太极等有氧运动", "控制体重，避免熬夜"),
        ("持续胸痛超过十五分钟", "大汗淋漓、呼吸困难", "突然晕倒", "一侧肢体无力"),
    ),
    _Department(
        "内分泌科", 12, _ADULT_SUBJECTS,
        (
            _cond("2型糖尿病", "口渴想喝水|尿多|体重下降|空腹血糖八点多|视物模糊|手脚发麻",
                  "空腹及餐后血糖|糖化血红蛋白|口服葡萄糖耐量试验", "服用二甲双胍|控制主食量、少吃甜食|规律监测血糖"),
            _cond("甲状腺功能亢进症", "心慌手抖|怕热多汗|吃得多反而瘦|脾气急躁|脖子变粗|眼睛突出",
                  "甲状腺功能|甲状腺B超|甲状腺抗体", "服用甲巯咪唑等抗甲状腺药物|少吃海带紫菜等含碘食物|定期复查甲功和血常规"),
            _cond("甲状腺功能减退症", "怕冷|浑身没劲|记性变差|体重增加|脸和眼皮浮肿|大便干",
                  "甲状腺功能|甲状腺B超|血脂", "每天早上空腹服用左甲状腺素片|每一到两个月复查甲功调整剂量|注意保暖"),
            _cond("甲状腺结节", "体检发现甲状腺结节|脖子有异物感|吞咽时不舒服|声音有点嘶哑",
                  "甲状腺B超|甲状腺功能|细针穿刺活检", "定期复查B超观察变化|结节可疑时做穿刺明确性质|必要时手术治疗"),
            _cond("痛风", "脚趾关节红肿|半夜关节疼醒|尿酸偏高|脚踝肿痛|关节发热",
                  "血尿酸|关节B超|肾功能", "急性期服用秋水仙碱|长期服用降尿酸药物|少吃海鲜和动物内脏、不喝啤酒"),
            _cond("骨质疏松症", "腰背疼|个子变矮|驼背|轻轻一摔就骨折|腿抽筋",
                  "骨密度|血钙|维生素D", "补充钙剂和维生素D|使用抗骨质疏松药物|多晒太阳、适当负重运动"),
            _cond("低血糖症", "饿的时候手抖出汗|头晕心慌|眼前发黑|饭前特别难受|注意力不集中",
                  "血糖监测|胰岛素释放试验|肝肾功能", "随身携带糖果|规律进餐、不要空腹运动|查明原因后调整降糖方案"),
        ),
        ("控制主食量，少吃甜食", "每天坚持运动半小时", "规律作息，不要熬夜", "定期监测血糖和体重", "多喝水，饮食均衡"),
        ("意识模糊", "明显口渴、尿量大增", "心慌大汗、手抖", "高热伴心跳很快"),
    ),
    _Department(
        "神经科", 10, _OLDER_SUBJECTS,
        (
            _cond("偏头痛", "一侧太阳穴跳着疼|头疼时怕光怕声音|头痛伴恶心|看东西有闪光|月经前头痛",
                  "头颅磁共振|经颅多普勒|脑电图", "发作时服用布洛芬等止痛药|记头痛日记找出诱因|发作频繁时预防性用药"),
            _cond("紧张性头痛", "整个头发紧|像戴了个紧箍|下午头痛加重|脖子肩膀僵硬|头昏沉",
                  "头颅CT|颈椎片|血压", "适当放松、按摩颈肩|短期服用止痛药|规律运动缓解压力"),
            _cond("失眠症", "入睡困难|半夜醒了就睡不着|早醒|白天没精神|多梦",
                  "睡眠监测|焦虑抑郁量表|甲状腺功能", "进行认知行为治疗|睡前不看手机、固定起床时间|短期服用助眠药物"),
            _cond("脑梗死", "一侧手脚发麻|说话不清楚|嘴角歪|走路不稳|拿东西没劲",
                  "头颅磁共振|颈动脉彩超|血脂血糖", "长期服用抗血小板药物和他汀|控制好血压血糖|尽早进行康复训练"),
            _cond("面神经炎", "嘴歪眼斜|一侧眼睛闭不上|喝水漏水|耳后疼痛|吃饭塞牙",
                  "头颅磁共振|肌电图|血常规", "早期使用激素和营养神经药物|配合针灸理疗|注意保护眼睛"),
            _cond("良性阵发性位置性眩晕", "一翻身就天旋地转|起床时头晕|头晕持续几十秒|恶心|不敢转头",
                  "变位试验|头颅磁共振|听力检查", "到医院做手法复位|复位后几天内避免剧烈转头|反复发作时做前庭康复训练"),
            _cond("帕金森病", "手不自主地抖|动作变慢|走路小碎步|肢体发僵|写字越来越小",
                  "头颅磁共振|嗅觉检查|多巴胺转运体显像", "服用多巴丝肼等药物|坚持康复锻炼|注意防止跌倒"),
        ),
        ("保证充足睡眠", "避免长时间低头看手机", "保持心情放松", "适当进行有氧运动", "戒烟限酒，清淡饮食"),
        ("突然说话不清、口角歪斜", "一侧肢体无力", "剧烈头痛伴呕吐", "意识不清或抽搐"),
    ),
    _Department(
        "呼吸科", 12, _ADULT_SUBJECTS,
        (
            _cond("急性支气管炎", "咳嗽|咳黄痰|嗓子疼|低烧|咳得胸口疼",
                  "血常规|胸片|C反应蛋白", "服用止咳化痰药物|多喝温水、注意休息|有细菌感染时用抗生素"),
            _cond("社区获得性肺炎", "发烧|咳嗽咳痰|胸痛|气短|浑身酸痛",
                  "胸部CT|血常规|痰培养", "规范使用抗生素|发热时物理降温|病情重时住院治疗"),
            _cond("支气管哮喘", "喘不上气|胸口发紧|夜里咳嗽|喘的时候有哨音|闻到刺激气味就咳",
                  "肺功能|支气管激发试验|过敏原检测", "规律使用吸入激素|随身携带急救喷雾|远离过敏原"),
            _cond("慢性阻塞性肺疾病", "常年咳嗽咳痰|活动后气短|冬天加重|胸闷|走路慢了还喘",
                  "肺功能|胸部CT|血气分析", "坚持使用支气管扩张剂|戒烟|接种流感和肺炎疫苗"),
            _cond("上呼吸道感染", "流鼻涕|打喷嚏|嗓子疼|鼻塞|低烧",
                  "血常规|咽拭子|C反应蛋白", "多喝水、多休息|必要时服用对症的感冒药|发烧超过三十八度五时服用退烧药"),
            _cond("肺结节", "体检发现肺结节|偶尔咳嗽|胸口隐痛|没有明显症状",
                  "胸部薄层CT|肿瘤标志物|PET-CT", "按医生要求定期复查CT|戒烟|结节增大或形态可疑时考虑手术"),
            _cond("咳嗽变异性哮喘", "干咳一个多月|晚上咳得厉害|闻到油烟就咳|说话多了咳|遇冷空气咳",
                  "肺功能|呼出气一氧化氮|胸片", "使用吸入药物|避免冷空气和油烟刺激|坚持用药不要自行停药"),
        ),
        ("注意保暖，避免受凉", "戒烟，远离二手烟", "去人多的地方戴口罩", "多喝温水，保持室内通风", "适当锻炼，增强体质"),
        ("呼吸困难、口唇发紫", "高烧不退", "咳血", "胸痛明显"),
    ),
    _Department(
        "儿科", 14, _CHILD_SUBJECTS,
        (
            _cond("小儿上呼吸道感染", "发烧|流鼻涕|咳嗽|嗓子红|精神不太好",
                  "血常规|C反应蛋白|咽拭子", "多喝水、注意休息|体温超过三十八度五时服用退烧药|必要时用药"),
            _cond("小儿腹泻", "拉稀水样便|一天拉好几次|呕吐|不爱吃东西|尿少",
                  "大便常规|轮状病毒检测|血电解质", "口服补液盐防止脱水|服用蒙脱石散和益生菌|饮食清淡、少量多次"),
            _cond("手足口病", "手心脚心起小疹子|嘴里长疱|发烧|流口水|不肯吃饭",
                  "血常规|肠道病毒检测|咽拭子", "居家隔离、注意手卫生|吃温凉的流食|对症退热护理"),
            _cond("疱疹性咽峡炎", "高烧|嗓子里有小疱|吞咽疼|流口水|哭闹",
                  "血常规|咽拭子|肠道病毒检测", "吃凉一点的流质食物|发烧时退热处理|使用喷喉药"),
            _cond("小儿支气管肺炎", "咳嗽加重|发烧好几天|呼吸快|喉咙里有痰音|精神差",
                  "胸片|血常规|支原体抗体", "使用抗生素|雾化治疗帮助排痰|必要时住院观察"),
            _cond("小儿消化不良", "口臭|肚子胀|不爱吃饭|大便有酸臭味|晚上睡不踏实",
                  "大便常规|腹部B超|微量元素", "服用益生菌帮助消化|减少零食和油炸食品|适当揉揉肚子"),
            _cond("幼儿急疹", "突然高烧三天|退烧后身上出红疹|有点烦躁|眼睑有点肿",
                  "血常规|C反应蛋白|尿常规", "发烧期间物理降温并按需用退烧药|多喝水|皮疹一般不用特殊处理"),
        ),
        ("多喝水，注意观察精神状态", "饮食清淡，少吃零食", "注意勤洗手，避免交叉感染", "保证充足睡眠", "衣服不要穿得太厚"),
        ("高烧不退", "精神萎靡、嗜睡", "抽搐", "呼吸急促或尿量明显减少"),
        ("家长您好，", "家长你好，"),
    ),
    _Department(
        "妇产科", 12, _FEMALE_SUBJECTS,
        (
            _cond("阴道炎", "白带多|外阴瘙痒|白带有异味|白带像豆腐渣|小便时有点疼",
                  "白带常规|支原体衣原体检测|宫颈筛查", "使用阴道栓剂|治疗期间避免同房|伴侣必要时同时治疗"),
            _cond("月经不调", "月经推迟|经量变少|两次月经间有出血|周期忽长忽短|经期拉长",
                  "性激素六项|妇科B超|甲状腺功能", "调整作息、避免过度节食|调经治疗|记录月经周期"),
            _cond("原发性痛经", "来月经肚子疼|经期小腹坠胀|疼得冒冷汗|经期腰酸|经期恶心",
                  "妇科B超|性激素六项|血常规", "经期注意保暖|疼痛时服用布洛芬|规律运动改善症状"),
            _cond("子宫肌瘤", "月经量多|经期延长|小腹有坠胀感|尿频|贫血头晕",
                  "妇科B超|血常规|盆腔磁共振", "肌瘤小的话定期复查B超|月经量多时纠正贫血|必要时手术剔除肌瘤"),
            _cond("盆腔炎", "下腹痛|腰骶部酸痛|白带发黄|同房后疼痛|低热",
                  "妇科B超|白带常规|血常规", "足量足疗程使用抗生素|注意休息|治疗期间禁止同房"),
            _cond("多囊卵巢综合征", "月经好几个月来一次|脸上长痘|体毛变多|体重增加|备孕一直没怀上",
                  "性激素六项|妇科B超|胰岛素释放试验", "控制体重、规律运动|调节月经周期|有生育要求时促排卵治疗"),
            _cond("先兆流产", "怀孕后阴道少量出血|小腹隐痛|腰酸|有点褐色分泌物",
                  "孕酮和HCG|妇科B超|血常规", "卧床休息、避免劳累|保胎治疗|定期复查HCG和B超"),
            _cond("乳腺增生", "乳房胀痛|经前乳房疼|摸到乳房有小结节|胀痛连到腋下",
                  "乳腺B超|钼靶|乳腺磁共振", "保持心情舒畅|必要时服用疏肝散结类药物|定期复查乳腺B超"),
        ),
        ("注意外阴清洁，勤换内裤", "经期避免受凉和生冷饮食", "保持规律作息和良好心情", "避免过度节食减肥", "定期做妇科体检"),
        ("阴道大量出血", "剧烈腹痛", "高热寒战", "头晕晕倒"),
    ),
    _Department(
        "皮肤科", 10, _ADULT_SUBJECTS,
        (
            _cond("湿疹", "皮肤起红疹|瘙痒|皮肤干燥脱皮|抓破后流水|反复发作",
                  "皮肤镜|过敏原检测|血常规", "外用弱效激素药膏|多涂保湿霜|口服抗过敏药"),
            _cond("荨麻疹", "身上起风团|一阵一阵地痒|风团几个小时就消|抓哪里哪里起|晚上更痒",
                  "过敏原检测|血常规|皮肤划痕试验", "服用氯雷他定等抗组胺药|找出并避开诱因|慢性患者坚持规律用药"),
            _cond("痤疮", "脸上长痘|额头和下巴冒粉刺|痘痘发红发疼|留下痘印|出油多",
                  "皮肤镜|性激素六项|血常规", "外用阿达帕林凝胶|不要用手挤痘痘|严重时口服药物"),
            _cond("带状疱疹", "一侧腰上起水疱|皮肤针扎一样疼|疱疹成簇成片|局部烧灼感|疼得睡不着",
                  "血常规|疱液检查|肝肾功能", "尽早抗病毒治疗|营养神经、止痛|保持疱疹处清洁干燥"),
            _cond("足癣", "脚趾缝痒|脚上脱皮|脚趾间发白|起小水疱|脚有异味",
                  "真菌镜检|真菌培养|皮肤镜", "外用抗真菌药膏坚持四周|保持脚部干燥|鞋袜勤换勤晒"),
            _cond("银屑病", "身上起红斑上面有白屑|头皮脱屑|肘部膝盖有斑块|冬天加重|指甲变形",
                  "皮肤镜|皮肤病理|血常规", "外用药膏|严重时使用生物制剂|保持皮肤湿润"),
            _cond("接触性皮炎", "接触东西的地方发红|起小水疱|瘙痒灼热|边界很清楚",
                  "斑贴试验|过敏原检测|血常规", "立即避开致敏物|外用激素药膏|必要时口服抗过敏药"),
            _cond("脂溢性皮炎", "头皮屑多|鼻翼两侧发红脱屑|头皮痒|脸上出油",
                  "真菌镜检|皮肤镜|血常规", "使用含酮康唑的洗剂|少吃油腻甜食|规律作息"),
        ),
        ("避免搔抓", "不要用太烫的水洗澡", "少吃辛辣刺激和海鲜", "穿宽松的棉质衣服", "保持皮肤清洁和湿润"),
        ("皮疹迅速扩散", "高热不退", "嘴唇舌头肿胀、呼吸不畅", "皮肤大片破溃"),
    ),
)

_DURATIONS = (
    "两三天", "三天", "四五天", "一个星期", "十来天", "半个月", "二十多天", "一个多月",
    "两个月", "三个多月", "半年", "大半年", "一年多", "两年",
)
_TREATMENTS_TRIED = (
    "吃过一些中成药", "自己吃了点消炎药", "在诊所输了两天液", "还没有用过什么药",
    "用了些偏方", "吃了几天药感觉好一点但又反复了", "去社区医院开过药",
)
_GREETINGS = ("你好，", "您好，", "你好！", "您好！", "", "", "这位朋友你好，", "朋友您好，")
_CLOSINGS = ("祝早日康复！", "希望对您有所帮助。", "祝您身体健康。", "", "", "有问题可以随时再咨询。", "祝好。")
_WEEKS = ("一", "两", "三", "四", "六")
_SAFETY = (
    "如果症状加重或持续不缓解，建议及时就医。",
    "以上建议仅供参考，具体请以面诊医生意见为准。",
    "网上咨询不能代替面诊，建议及时到医院就诊。",
    "建议及时就医，以免延误病情。",
    "如出现{red_flag}等情况，请立即到急诊就诊。",
    "如有{red_flag}，需要马上去医院。",
)
_PADDING = (
    "平时注意规律作息，避免过度劳累。",
    "建议及时就医，由医生面诊后制定方案。",
    "用药期间如有不适，请及时复诊。",
    "保持良好的心态也有助于恢复。",
)

_ASK_TEMPLATES = (
    "医生您好，{subject}最近总是{symptom}，还有点{symptom2}，是不是{condition}？需要做什么检查？",
    "{profile}。{duration}前开始{symptom}，后来又出现{symptom2}，请问这是什么原因引起的？",
    "{subject}今年{age}岁，{duration}来一直{symptom}，去医院做了{check}，医生说是{condition}，想问一下严重吗，应该怎么治疗？",
    "你好医生，{subject}{symptom}{duration}了，自己在药店买了点药吃，效果不明显，现在还{symptom2}，该怎么办？",
    "请问{condition}能治好吗？{subject}{age}岁，确诊{duration}了，平时{symptom}比较明显，有没有什么好的办法？",
    "{subject}{symptom}，伴有{symptom2}和{symptom3}，已经{duration}了，要去医院挂什么科？做哪些检查？",
    "医生，{subject}{age}岁，{sex}，最近{duration}{symptom}，有时候还{symptom2}，会不会是{condition}啊？挺担心的。",
    "{profile}，之前查出{condition}，{duration}没有复查，最近又开始{symptom}，需要重新做{check}吗？",
    "想咨询一下，{symptom}和{symptom2}同时出现是怎么回事？{subject}{age}岁，以前身体挺好的。",
    "{subject}这{duration}老是{symptom}，晚上更明显，睡不好觉，吃什么药能缓解？",
    "医生好，{subject}做了{check}，结果提示{condition}，平时偶尔{symptom}，需要吃药吗？生活上要注意什么？",
    "{subject}{age}岁，{symptom}{duration}，没有其他不舒服，需要去医院吗？还是观察一下就行？",
    "麻烦医生帮忙看看：{profile}，主要是{symptom}，另外{symptom2}，之前{treatment_tried}，现在该怎么办？",
    "{condition}需要注意什么？{subject}刚确诊不久，医生让{treatment}，想了解一下要坚持多久。",
    "请问{symptom}一般是什么病？{subject}{duration}前开始这样，还{symptom2}，还没去医院看过。",
    "急！{subject}突然{symptom}，还{symptom2}，{age}岁，以前没有这种情况，是不是很严重？",
    "您好，{subject}{age}岁，有{condition}病史{duration}，这几天{symptom}加重了，要不要调整用药？",
    "{subject}{symptom}、{symptom2}，{pronoun}{age}岁，{treatment_tried}，还需要做{check}吗？",
)

_TITLE_TEMPLATES = (
    "{symptom}怎么办？", "{symptom}是什么原因？", "{symptom}是不是{condition}？", "{condition}怎么治疗？",
    "{condition}需要做什么检查？", "{condition}吃什么药好？", "{symptom}、{symptom2}是怎么回事？",
    "{age}岁{sex}，{symptom}{duration}", "{subject}{symptom}怎么办？", "{condition}能根治吗？",
    "{symptom}要做{check}吗？", "{condition}平时要注意什么？", "{symptom}{duration}了，严重吗？",
)

_ANSWER_TEMPLATES = (
    "{greeting}根据{patient_ref}描述的{symptom}、{symptom2}等情况，考虑{condition}的可能性比较大。建议到{department}就诊，做{check}和{check2}明确诊断。平时要{lifestyle}。{closing}",
    "{greeting}{symptom}的原因比较多，结合{patient_ref}的情况，首先要排除{condition}。可以先查一下{check}，确诊后在医生指导下{treatment}。{safety}",
    "{greeting}{condition}一般可以通过{check}来确诊。治疗上可以{treatment}，同时{lifestyle}，{weeks}周后复查看看效果。{closing}",
    "{greeting}这种情况不用太紧张，{condition}是比较常见的问题，多数经过规范治疗可以控制。建议{treatment}，并且{lifestyle}。如果{symptom}持续不缓解，需要进一步做{check}。",
    "{greeting}从描述看，{patient_ref}{symptom}已经有{duration}了，建议尽快到正规医院{department}就诊，完善{check}、{check2}等检查，不要自行长期用药。{safety}",
    "{greeting}单纯{symptom}不一定是{condition}，还需要结合{check}的结果来判断。如果已经确诊，可以{treatment}，一般{weeks}周左右症状会有改善。{closing}",
    "{greeting}{condition}的治疗关键在于长期管理：一是{treatment}；二是{lifestyle}；三是定期复查{check}。{safety}",
    "{greeting}{patient_ref}出现{symptom}伴{symptom2}，要警惕{condition}。建议先做{check}，必要时再查{check2}。在结果出来之前，要{lifestyle}。{closing}",
    "{greeting}{condition}患者平时要{lifestyle}，{lifestyle2}。治疗方面可以{treatment}，具体方案请遵医嘱。如出现{red_flag}，请及时到医院就诊。",
    "{greeting}结合{patient_ref}提到的{check}结果，目前考虑{condition}。可以先{treatment}，观察{weeks}周，如果效果不好，再考虑{treatment2}。{closing}",
    "{greeting}{symptom}是{condition}的常见表现之一，但也可能由其他原因引起。建议到{department}做个{check}，确诊后再对症治疗，平时{lifestyle}。{safety}",
    "{greeting}{patient_ref}的情况需要重视。{symptom}、{symptom2}持续{duration}，最好做一下{check}和{check2}，排除{condition}。{safety}{closing}",
    "{greeting}一般来说，{condition}早期症状不明显，随着病情进展会出现{symptom}、{symptom2}等表现。建议{treatment}，同时{lifestyle}，定期复查。{closing}",
    "{greeting}不建议自行服药。{condition}需要根据{check}结果制定方案，常用的方法是{treatment}。另外，{lifestyle2}也很重要。{safety}",
    "{greeting}{patient_ref}这种情况，首先考虑{condition}，其次要排除其他疾病。可以先{treatment}，{weeks}周后复查{check}。如果出现{red_flag}，要立即就医。",
    "{greeting}针对{symptom}，建议从两方面入手：一方面{treatment}；另一方面{lifestyle}。如症状反复，需要做{check}进一步明确。{closing}",
    "{greeting}{condition}属于{department}的常见病，只要规范治疗、{lifestyle}，大多数患者预后良好。目前建议{treatment}，{weeks}周后门诊复诊。{safety}",
    "{greeting}{symptom}持续{duration}，不能只靠忍着。{condition}可以先做{check}评估，治疗上{treatment}，也可以配合{treatment2}。{closing}",
)

_EXTRA_ADVICE = (
    "另外，{lifestyle2}也有帮助。",
    "复诊时请带上之前的{check2}报告，方便医生对比。",
    "用药期间如有不适，请及时复诊，不要自行加量或停药。",
    "{red_flag}属于危险信号，一旦出现要马上就医。",
    "{condition}容易反复，症状好转后也要按时复查。",
)
_EXTRA_ADVICE_RATE = 0.4

_SHORT_ANSWERS = ("谢谢", "好的", "同意", "嗯嗯", "见上", "已回复", "收到")
_DOCTOR_NAMES = ("李明", "张丽", "陈晓东", "刘建国", "赵敏", "周红", "王喆", "孙堃", "朱镕", "陈玥", "黄昇")
_SIGNATURE_TEMPLATES = ("（{department}{name}医生）", "【{name}医生回复】", "{name}医生，{department}")
_ID_AREA_CODES = ("110101", "310104", "440305", "510107", "330106", "420102", "320102", "370102", "610113", "210102")
_EMAIL_USERS = ("zhangwei", "lina", "wangfang", "liuyang", "chenjing", "yangli", "huanglei", "zhaomin", "xiaoyu")
_EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

_WEIGHTED_DEPARTMENTS = tuple(dept for dept in _DEPARTMENTS for _ in range(dept.weight))

# --------------------------------------------------------------------------------------------
# Core generation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Case:
    """One patient story: every question paraphrase and answer about it shares these slots."""

    department: _Department
    condition: _Condition
    slots: dict[str, str]


# The hot path uses rng.random() directly: Random.choice/randint cost several times more per call,
# and a benchmark draws millions of slots.
def _pick(rng: random.Random, options: Sequence[T]) -> T:
    return options[int(rng.random() * len(options))]


def _randint(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _pick_distinct(rng: random.Random, options: Sequence[T], count: int) -> list[T]:
    if count > len(options):
        raise ValueError(f"cannot pick {count} distinct items from {len(options)}")
    chosen: list[T] = []
    while len(chosen) < count:
        item = _pick(rng, options)
        if item not in chosen:
            chosen.append(item)
    return chosen


def _draw_case(rng: random.Random) -> _Case:
    department = _pick(rng, _WEIGHTED_DEPARTMENTS)
    condition = _pick(rng, department.conditions)
    subject = _pick(rng, department.subjects)
    sex = subject.sex or _pick(rng, ("男", "女"))
    sex_label = sex + "孩" if subject.is_child else sex
    age = _randint(rng, subject.min_age, subject.max_age)
    pronoun = "我" if subject.name == "我" else ("他" if sex == "男" else "她")
    symptom, symptom2, symptom3 = _pick_distinct(rng, condition.symptoms, 3)
    slots = {
        "department": department.name,
        "condition": condition.name,
        "subject": subject.name,
        "patient_ref": subject.patient_ref,
        "pronoun": pronoun,
        "sex": sex_label,
        "age": str(age),
        "profile": f"{sex_label}，{age}岁",
        "duration": _pick(rng, _DURATIONS),
        "symptom": symptom,
        "symptom2": symptom2,
        "symptom3": symptom3,
        "check": _pick(rng, condition.checks),
        "treatment": _pick(rng, condition.treatments),
        "treatment_tried": _pick(rng, _TREATMENTS_TRIED),
    }
    return _Case(department, condition, slots)


def _render_title(rng: random.Random, case: _Case) -> str:
    return _pick(rng, _TITLE_TEMPLATES).format_map(case.slots)


def _render_ask(rng: random.Random, case: _Case, template: str | None = None) -> str:
    return (template or _pick(rng, _ASK_TEMPLATES)).format_map(case.slots)


def _fit_answer_length(rng: random.Random, text: str) -> str:
    while len(text) < MIN_ANSWER_CHARS:
        text += _pick(rng, _PADDING)
    if len(text) > MAX_ANSWER_CHARS:
        cut = text.rfind("。", 0, MAX_ANSWER_CHARS)
        text = text[: cut + 1] if cut > 0 else text[:MAX_ANSWER_CHARS]
    return text


def _render_answer(rng: random.Random, case: _Case) -> str:
    department = case.department
    condition = case.condition
    check, check2 = _pick_distinct(rng, condition.checks, 2)
    treatment, treatment2 = _pick_distinct(rng, condition.treatments, 2)
    lifestyle, lifestyle2 = _pick_distinct(rng, department.lifestyle, 2)
    red_flag = _pick(rng, department.red_flags)
    greetings = _GREETINGS + department.greetings
    slots = dict(case.slots)
    if rng.random() < 0.5:  # doctors often lead with the other symptom
        slots["symptom"], slots["symptom2"] = slots["symptom2"], slots["symptom"]
    slots.update(
        greeting=_pick(rng, greetings),
        closing=_pick(rng, _CLOSINGS),
        check=check,
        check2=check2,
        treatment=treatment,
        treatment2=treatment2,
        lifestyle=lifestyle,
        lifestyle2=lifestyle2,
        red_flag=red_flag,
        weeks=_pick(rng, _WEEKS),
        safety=_pick(rng, _SAFETY).format(red_flag=red_flag),
    )
    if rng.random() < _EXTRA_ADVICE_RATE:
        slots["closing"] = _pick(rng, _EXTRA_ADVICE).format_map(slots) + slots["closing"]
    return _fit_answer_length(rng, _pick(rng, _ANSWER_TEMPLATES).format_map(slots))


def _render_answers(rng: random.Random, case: _Case, count: int) -> tuple[str, ...]:
    answers: list[str] = []
    for _ in range(count):
        answer = _render_answer(rng, case)
        for _retry in range(5):  # different doctors should not give word-identical answers
            if answer not in answers:
                break
            answer = _render_answer(rng, case)
        answers.append(answer)
    return tuple(answers)


def _validate_counts(n_questions: int, answers_per_question: tuple[int, int]) -> None:
    if n_questions < 0:
        raise ValueError(f"n_questions must be >= 0, got {n_questions}")
    low, high = answers_per_question
    if not 1 <= low <= high:
        raise ValueError(f"answers_per_question must satisfy 1 <= low <= high, got {answers_per_question}")


def generate_questions(
    n_questions: int, seed: int = 0, answers_per_question: tuple[int, int] = (1, 3)
) -> Iterator[SyntheticQA]:
    """Deterministic stream; number of answers per question uniform in the inclusive range."""
    _validate_counts(n_questions, answers_per_question)
    low, high = answers_per_question
    rng = random.Random(seed)
    for index in range(n_questions):
        case = _draw_case(rng)
        title = _render_title(rng, case)
        ask = _render_ask(rng, case)
        answers = _render_answers(rng, case, _randint(rng, low, high))
        yield SyntheticQA(index + 1, case.department.name, title, ask, answers)


# --------------------------------------------------------------------------------------------
# cMedQA2 and Huatuo writers
# --------------------------------------------------------------------------------------------


def write_cmedqa2(
    out_dir: Path, n_questions: int, seed: int = 0, answers_per_question: tuple[int, int] = (1, 3)
) -> tuple[Path, Path]:
    """Writes out_dir/questions.csv (header `question_id,content`) and out_dir/answers.csv
    (header `ans_id,question_id,content`), UTF-8, csv module with QUOTE_MINIMAL, content = title + ask for
    questions. ans_id counts from 1. Returns (questions_path, answers_path). Streams: never builds all rows in memory."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    questions_path = out_dir / "questions.csv"
    answers_path = out_dir / "answers.csv"
    with (
        questions_path.open("w", encoding="utf-8", newline="") as questions_file,
        answers_path.open("w", encoding="utf-8", newline="") as answers_file,
    ):
        question_writer = csv.writer(questions_file, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        answer_writer = csv.writer(answers_file, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        question_writer.writerow(("question_id", "content"))
        answer_writer.writerow(("ans_id", "question_id", "content"))
        ans_id = 0
        for qa in generate_questions(n_questions, seed, answers_per_question):
            question_writer.writerow((qa.question_id, qa.title + qa.ask))
            for answer in qa.answers:
                ans_id += 1
                answer_writer.writerow((ans_id, qa.question_id, answer))
    return questions_path, answers_path


def write_huatuo_jsonl(path: Path, n_questions: int, seed: int = 0) -> Path:
    """UTF-8 JSONL, each line {"questions": [2-3 paraphrases of the question], "answers": [1-2 answers]}."""
    _validate_counts(n_questions, (1, 2))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for _ in range(n_questions):
            case = _draw_case(rng)
            templates = rng.sample(_ASK_TEMPLATES, _randint(rng, 2, 3))
            record = {
                "questions": [_render_ask(rng, case, template) for template in templates],
                "answers": list(_render_answers(rng, case, _randint(rng, 1, 2))),
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


# --------------------------------------------------------------------------------------------
# Dialogue CSV with optional, deterministic dirt
# --------------------------------------------------------------------------------------------

_Row = tuple[str, str, str, str]  # department, title, ask, answer
_MESSY_BLOCK = 100
# Per block of 100 questions: how many rows get each in-place modification, and how many extra rows follow.
_ROW_DIRT_PER_BLOCK = {"html": 2, "fullwidth_whitespace": 2, "pii": 2, "short_answer": 1, "embedded_newline": 1}
_EXTRA_ROWS_PER_BLOCK = {"exact_duplicate": 3, "near_duplicate": 2}
_SIGNATURE_RATE = 0.05


def mainland_id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a mainland China resident ID number."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"expected 17 digits, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS))
    return "10X98765432"[total % 11]


def _fake_id_number(rng: random.Random) -> str:
    birth = f"{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = rng.choice(_ID_AREA_CODES) + birth + f"{rng.randint(0, 999):03d}"
    return first17 + mainland_id_check_digit(first17)


def _fake_mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + f"{rng.randrange(10**9):09d}"


def _fake_email(rng: random.Random) -> str:
    if rng.random() < 0.4:
        return f"{rng.randint(10**7, 10**10)}@qq.com"
    return f"{rng.choice(_EMAIL_USERS)}{rng.randint(1, 2005)}@{rng.choice(_EMAIL_DOMAINS)}"


def _can_encode(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _add_html(rng: random.Random, row: _Row) -> _Row:
    department, title, ask, answer = row
    answer = answer.replace("。", "。<br>", rng.randint(1, 2))
    if rng.random() < 0.5:
        answer = f"<p>{answer}</p>"
    ask = ask.replace("，", "，&nbsp;", 1)
    return department, title, ask, answer


_TO_FULLWIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F) if chr(code).isalnum()}


def _add_fullwidth_and_whitespace(rng: random.Random, row: _Row) -> _Row:
    department, title, ask, answer = row
    if not any(ch.isascii() and ch.isalnum() for ch in ask + answer):
        ask += f"（年龄：{rng.randint(18, 80)}岁）"
    ask = ask.translate(_TO_FULLWIDTH)
    answer = answer.translate(_TO_FULLWIDTH)
    ask = rng.choice((" ", "  ", "\u3000", "\t")) + ask.replace("，", "， ", 1) + rng.choice((" ", "\u3000", "  "))
    answer = answer.replace("。", "。  ", 1) + " "
    return department, " " + title, ask, answer


def _add_pii(rng: random.Random, row: _Row) -> _Row:
    department, title, ask, answer = row
    form = rng.randrange(3)
    if form == 0:
        ask += f"我的身份证号是{_fake_id_number(rng)}，麻烦帮我看看医保能不能报。"
    elif form == 1:
        ask += f"方便的话打我电话{_fake_mobile(rng)}详细说一下。"
    else:
        ask += f"检查报告可以发到我邮箱{_fake_email(rng)}吗？"
    return department, title, ask, answer


def _make_answer_short(rng: random.Random, row: _Row) -> _Row:
    return row[0], row[1], row[2], rng.choice(_SHORT_ANSWERS)


def _add_embedded_newline(rng: random.Random, row: _Row) -> _Row:
    department, title, ask, answer = row
    cut = answer.find("。")
    cut = cut + 1 if 0 <= cut < len(answer) - 1 else len(answer) // 2
    return department, title, ask, answer[:cut] + "\n" + answer[cut:]


_NEAR_DUP_SWAPS = (("吗", "么"), ("的", "地"), ("。", "！"), ("？", "?"), ("，", ","))


def _perturb(rng: random.Random, text: str) -> str:
    """One small edit: insert punctuation, drop a character or swap a look-alike character."""
    edit = rng.randrange(3)
    if edit == 0 or len(text) < 4:
        position = rng.randrange(len(text) + 1)
        return text[:position] + rng.choice("，。！？") + text[position:]
    if edit == 1:
        position = rng.randrange(len(text))
        return text[:position] + text[position + 1:]
    for old, new in rng.sample(_NEAR_DUP_SWAPS, len(_NEAR_DUP_SWAPS)):
        if old in text:
            return text.replace(old, new, 1)
    return text + rng.choice("。！")


def _near_duplicate(rng: random.Random, row: _Row) -> _Row:
    department, title, ask, answer = row
    for _ in range(rng.randint(1, 2)):
        if rng.random() < 0.5:
            ask = _perturb(rng, ask)
        else:
            answer = _perturb(rng, answer)
    return department, title, ask, answer


_ROW_DIRT = {
    "html": _add_html,
    "fullwidth_whitespace": _add_fullwidth_and_whitespace,
    "pii": _add_pii,
    "short_answer": _make_answer_short,
    "embedded_newline": _add_embedded_newline,
}


def _shuffled_block(rng: random.Random, counts: dict[str, int]) -> list[str | None]:
    labels: list[str | None] = [kind for kind, count in counts.items() for _ in range(count)]
    labels += [None] * (_MESSY_BLOCK - len(labels))
    rng.shuffle(labels)
    return labels


def _dirt_plan(rng: random.Random, n_questions: int) -> Iterator[tuple[str | None, str | None]]:
    """Per question: (in-place dirt kind or None, extra-row kind or None), exact rates per block of 100."""
    for _block_start in range(0, n_questions, _MESSY_BLOCK):
        row_dirt = _shuffled_block(rng, _ROW_DIRT_PER_BLOCK)
        extra_rows = _shuffled_block(rng, _EXTRA_ROWS_PER_BLOCK)
        yield from zip(row_dirt, extra_rows)


def _sign(rng: random.Random, row: _Row, names: tuple[str, ...]) -> _Row:
    department, title, ask, answer = row
    signature = rng.choice(_SIGNATURE_TEMPLATES).format(department=department, name=rng.choice(names))
    return department, title, ask, answer + signature


def write_dialogue_csv(
    path: Path, n_questions: int, seed: int = 0, encoding: str = "gbk", messy: bool = False
) -> Path:
    """Chinese-medical-dialogue style CSV with header `department,title,ask,answer`, one row per question
    (first answer only; same questions as write_cmedqa2 with the same seed), in the given encoding (default gbk).

    messy=True deterministically modifies, per block of 100 questions, 2 rows with HTML, 2 with full-width
    characters and stray whitespace, 2 with PII in the ask, 1 with a short answer and 1 with an embedded
    newline, and appends 3 exact and 2 near duplicates of recent rows (so the file has ~5% more rows).
    Some answers carry a doctor's signature; the first one always uses a name the encoding can write but
    GB2312 cannot (e.g. 王喆) when such a name exists for the encoding."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = tuple(name for name in _DOCTOR_NAMES if _can_encode(name, encoding))
    beyond_gb2312 = tuple(name for name in names if not _can_encode(name, "gb2312"))
    need_beyond_gb2312 = bool(beyond_gb2312)
    sign_rng = random.Random(f"dialogue-signature:{seed}")
    dirt_rng = random.Random(f"dialogue-messy:{seed}")
    plan = _dirt_plan(dirt_rng, n_questions) if messy else None
    recent_rows: deque[_Row] = deque(maxlen=200)
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(("department", "title", "ask", "answer"))
        for qa in generate_questions(n_questions, seed):  # same stream as write_cmedqa2 for this seed
            row: _Row = (qa.department, qa.title, qa.ask, qa.answers[0])
            row_dirt, extra_row = next(plan) if plan is not None else (None, None)
            if row_dirt is not None:
                row = _ROW_DIRT[row_dirt](dirt_rng, row)
            if row_dirt != "short_answer" and names and (need_beyond_gb2312 or sign_rng.random() < _SIGNATURE_RATE):
                row = _sign(sign_rng, row, beyond_gb2312 if need_beyond_gb2312 else names)
                need_beyond_gb2312 = False
            writer.writerow(row)
            recent_rows.append(row)
            if extra_row == "exact_duplicate":
                writer.writerow(dirt_rng.choice(recent_rows))
            elif extra_row == "near_duplicate":
                writer.writerow(_near_duplicate(dirt_rng, dirt_rng.choice(recent_rows)))
    return path
